// The ports: what the application needs from the outside world. Adapters provide them as Layers.
export * from "./event-store.ts"
export * from "./power-driver.ts"
export * from "./boot-configurator.ts"
export * from "./block-writer.ts"
export * from "./image-store.ts"
export * from "./clock.ts"
export * from "./ids.ts"
export * from "./secrets.ts"
