// The in-band cleaning steps the ramdisk agent carries out (agent.sh, and the simulated ramdisks):
// offered by the deploy interfaces that boot it. Names and priorities as Ironic's agent has them;
// the burn-in steps take their durations under the names Ironic's agent reads from driver_info.
import type { StepSpec } from "../hardware/steps.ts"

const inBand = (name: string, description: string, priority: number, args: StepSpec["args"] = {}): StepSpec =>
  ({ where: "in-band", name, description, priority, args })

export const agentSteps: ReadonlyArray<StepSpec> = [
  inBand("erase_devices_metadata", "Zero the first and last 18 KiB of every local disk (MBR, GPT and its backup): the partition table goes.", 99),
  inBand("erase_devices", "Overwrite every byte of every local disk with zeros.", 0),
  inBand("burnin_cpu", "Load every CPU with stress-ng's cpu stressor; the summary carries its bogo ops.", 0, {
    agent_burnin_cpu_timeout: { description: "Seconds to run (default 86400)." },
    agent_burnin_cpu_cpu: { description: "CPU workers; 0 (default): one per CPU." },
  }),
  inBand("burnin_memory", "Test memory with memtester, pass after pass until the time is up; the summary carries the passes.", 0, {
    agent_burnin_vm_timeout: { description: "Seconds to run (default 86400); at least one pass runs." },
    "agent_burnin_vm_vm-bytes": { description: "Memory each pass tests: 64M, 1G or 50% of the available memory (default 75%)." },
  }),
  inBand("burnin_disk", "Random read/write with verification on every local disk with fio (destroys their data); the summary carries IOPS.", 0, {
    agent_burnin_fio_disk_runtime: { description: "Seconds each disk runs (default 0: by loops)." },
    agent_burnin_fio_disk_loops: { description: "Passes over each disk when no runtime is given (default 4)." },
  }),
]

/** The argument that bounds each burn-in step's run, in seconds: the conductor waits that much longer. */
const DURATION_ARGS = ["duration", "agent_burnin_cpu_timeout", "agent_burnin_vm_timeout", "agent_burnin_fio_disk_runtime"]
const DEFAULT_SECONDS: Readonly<Record<string, number>> = { "deploy.burnin_cpu": 86400, "deploy.burnin_memory": 86400 }

/** Seconds an in-band step runs for by its arguments (Ironic's defaults when not given). */
export const stepSeconds = (args: Readonly<Record<string, unknown>>, name?: string): number => {
  const given = DURATION_ARGS.map((a) => args[a]).find((v) => v !== undefined)
  const d = Number(given ?? (name === undefined ? 0 : DEFAULT_SECONDS[name] ?? 0))
  return Number.isFinite(d) && d > 0 ? d : 0
}
