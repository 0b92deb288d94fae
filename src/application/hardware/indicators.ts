// Indicators (Ironic's, API 1.63): a hardware component's LEDs, read and set through the node's
// management interface. Names and states as Ironic's (ironic/common/components.py, indicator_states.py).
import * as Effect from "effect/Effect"
import type { NodeState } from "../../domain/index.ts"
import type { Act } from "./interfaces.ts"

export const indicatorComponents = ["system", "chassis", "disk"] as const
export type IndicatorComponent = (typeof indicatorComponents)[number]
export const indicatorStates = ["off", "on", "blinking", "unknown"] as const
export type IndicatorState = (typeof indicatorStates)[number]

export interface Indicator {
  readonly component: IndicatorComponent
  readonly name: string
  readonly readonly: boolean
  /** The states it may be set to. */
  readonly states: ReadonlyArray<IndicatorState>
}

export interface Indicators {
  readonly list: (n: NodeState) => Act<ReadonlyArray<Indicator>>
  readonly get: (n: NodeState, component: IndicatorComponent, name: string) => Act<IndicatorState>
  readonly set: (n: NodeState, component: IndicatorComponent, name: string, state: IndicatorState) => Act<void>
}

/** Indicators kept in memory per node (the simulated machines' front panel LED). */
export const memoryIndicators = (): Indicators => {
  const lit = new Map<string, IndicatorState>()
  const led: Indicator = { component: "system", name: "led", readonly: false, states: ["off", "on", "blinking"] }
  const known = (component: string, name: string) => component === led.component && name === led.name
  const unknown = (component: string, name: string) => ({ message: `node has no indicator ${name}@${component}; it has led@system` })
  return {
    list: () => Effect.succeed([led]),
    get: (n, component, name) => known(component, name) ? Effect.succeed(lit.get(n.nodeId) ?? "off") : Effect.fail(unknown(component, name)),
    set: (n, component, name, state) => known(component, name) ? Effect.sync(() => { lit.set(n.nodeId, state) }) : Effect.fail(unknown(component, name)),
  }
}
