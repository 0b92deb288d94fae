// The cleaning steps Ironic's fake BIOS interface offers (apply_configuration, factory_reset),
// carried out on nothing: they check their arguments and report what they would have applied, so
// the out-of-band path of the step runner can be exercised without a BMC.
import * as Effect from "effect/Effect"
import type { DeclaredInterface } from "../../application/hardware/interfaces.ts"
import type { StepSpec } from "../../application/hardware/steps.ts"

const applyConfiguration: StepSpec = {
  where: "out-of-band", name: "apply_configuration", priority: 0,
  description: "Apply BIOS settings (fake: checked and reported, nothing applied).",
  args: { settings: { description: "A list of {name, value} BIOS settings.", required: true } },
  run: (_n, args) => {
    const settings = args["settings"]
    const valid = Array.isArray(settings) && settings.every((s) => typeof s === "object" && s !== null && typeof (s as { name?: unknown }).name === "string")
    if (!valid) return Effect.fail({ message: "settings must be a list of {name, value}" })
    const applied = Object.fromEntries((settings as Array<{ name: string; value?: unknown }>).map((s) => [s.name, s.value ?? null]))
    return Effect.succeed({ summary: `${Object.keys(applied).length} BIOS setting(s) applied (fake)`, details: { applied } })
  },
}

const factoryReset: StepSpec = {
  where: "out-of-band", name: "factory_reset", priority: 0, args: {},
  description: "Reset BIOS settings to factory defaults (fake: reported only).",
  run: () => Effect.succeed({ summary: "BIOS settings reset to factory defaults (fake)" }),
}

/** The fake interface of a slot, with the steps Ironic's fake one of that slot offers. */
export const withFakeSteps = (i: DeclaredInterface): DeclaredInterface =>
  i.slot === "bios" ? { ...i, steps: [applyConfiguration, factoryReset] } : i
