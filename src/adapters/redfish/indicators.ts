// The system's identify LED over Redfish (ComputerSystem.IndicatorLED: Lit, Blinking, Off), as
// Ironic's redfish management interface offers it: one indicator, led@system. A BMC whose system
// has no IndicatorLED offers none.
import * as Effect from "effect/Effect"
import type { Indicator, IndicatorState, Indicators } from "../../application/hardware/indicators.ts"
import type { RedfishClient } from "./client.ts"
import { systemOf } from "./system.ts"

const toState: Readonly<Record<string, IndicatorState>> = { Lit: "on", Blinking: "blinking", Off: "off" }
const toLed: Readonly<Record<IndicatorState, string | null>> = { on: "Lit", blinking: "Blinking", off: "Off", unknown: null }
const led: Indicator = { component: "system", name: "led", readonly: false, states: ["off", "on", "blinking"] }

export const redfishIndicators = (client: RedfishClient): Indicators => {
  const known = (component: string, name: string) =>
    component === "system" && name === "led" ? Effect.void : Effect.fail({ message: `the BMC offers no indicator ${name}@${component}; it offers led@system` })
  return {
    list: (n) => Effect.map(systemOf(client, n), (s) => (s.system["IndicatorLED"] === undefined ? [] : [led])),
    get: (n, component, name) =>
      Effect.andThen(known(component, name), Effect.map(systemOf(client, n), (s) => toState[String(s.system["IndicatorLED"])] ?? "unknown")),
    set: (n, component, name, state) =>
      Effect.andThen(known(component, name), Effect.gen(function* () {
        const value = toLed[state]
        if (value === null) return yield* Effect.fail({ message: `an indicator can be set to off, on or blinking, not ${state}` })
        const s = yield* systemOf(client, n)
        yield* client.send(s.bmc, "PATCH", s.path, { IndicatorLED: value })
      })),
  }
}
