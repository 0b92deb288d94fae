// The in-band cleaning steps the ramdisk agent carries out (agent.sh, and the simulated ramdisks):
// offered by the deploy interfaces that boot it. Names and priorities as Ironic's agent has them.
import type { StepSpec } from "../hardware/steps.ts"

const inBand = (name: string, description: string, priority: number, args: StepSpec["args"] = {}): StepSpec =>
  ({ where: "in-band", name, description, priority, args })

export const agentSteps: ReadonlyArray<StepSpec> = [
  inBand("erase_devices_metadata", "Zero the first and last 18 KiB of every local disk (MBR, GPT and its backup): the partition table goes.", 99),
  inBand("erase_devices", "Overwrite every byte of every local disk with zeros.", 0),
]
