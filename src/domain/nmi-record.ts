// A non-maskable interrupt injected through the node's management interface (Ironic's inject_nmi,
// API 1.29): what was asked and what the BMC made of it, so the history shows both and how long it took.
import * as t from "io-ts"
import { NonNegativeInt } from "./values.ts"

export const nmiEventData = {
  NmiRequested: t.type({ interface: t.string }),
  NmiInjected: t.type({ durationMs: NonNegativeInt }),
  NmiFailed: t.type({ error: t.string, durationMs: NonNegativeInt }),
}

export type NmiCommand =
  | { readonly type: "RequestNmi"; readonly interface: string }
  | { readonly type: "RecordNmi"; readonly error: string | null; readonly durationMs: number }

type NmiEvent = { [K in keyof typeof nmiEventData]: { readonly type: K; readonly data: t.TypeOf<(typeof nmiEventData)[K]> } }[keyof typeof nmiEventData]

export const decideNmi = (c: NmiCommand): NmiEvent => {
  if (c.type === "RequestNmi") return { type: "NmiRequested", data: { interface: c.interface } }
  const durationMs = Math.max(0, Math.round(c.durationMs)) as t.TypeOf<typeof NonNegativeInt>
  return c.error === null ? { type: "NmiInjected", data: { durationMs } } : { type: "NmiFailed", data: { error: c.error, durationMs } }
}
