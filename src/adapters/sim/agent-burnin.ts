// What the simulated ramdisks report for the burn-in and software RAID steps: the figures the real
// tools print, made plausible from the step's arguments and the machine's one disk, without running
// for the time asked (fast tests). The real agent runs stress-ng, memtester, fio and mdadm (steps.sh).
import { softwareRaidLevels } from "../../domain/index.ts"

type Outcome = { summary: string; details: Record<string, unknown> }
const MiB = 1024 * 1024

const seconds = (v: unknown, fallback: number, what: string): number => {
  const n = v === undefined ? fallback : Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what} must be a whole number of seconds, not ${JSON.stringify(v)}`)
  return n
}

/** Bytes of "64M", "1G", "50%" (of the machine's 512 MiB). */
const sizeOf = (v: unknown): number => {
  const m = /^(\d+)([KMG%]?)$/.exec(String(v ?? "75%"))
  if (m === null) throw new Error(`agent_burnin_vm_vm-bytes must be like 64M, 1G or 50%, not ${JSON.stringify(v)}`)
  const n = Number(m[1])
  return m[2] === "%" ? Math.floor((512 * MiB * Math.min(n, 100)) / 100) : n * ({ K: 1024, M: MiB, G: 1024 * MiB } as Record<string, number>)[m[2] || "M"]!
}

export const simBurnin = (name: string, args: Readonly<Record<string, unknown>>, diskBytes: number): Outcome | null => {
  switch (name) {
    case "deploy.burnin_cpu": {
      const t = seconds(args["agent_burnin_cpu_timeout"], 86400, "agent_burnin_cpu_timeout")
      const cpus = Number(args["agent_burnin_cpu_cpu"] ?? 0) || 1
      const bogoOps = Math.max(1, t) * cpus * 1200
      return { summary: `stress-ng cpu: ${bogoOps} bogo ops in ${t} s on ${cpus} CPU(s)`, details: { tool: "stress-ng", bogo_ops: bogoOps, bogo_ops_per_second: bogoOps / Math.max(1, t), seconds: t, workers: cpus } }
    }
    case "deploy.burnin_memory": {
      const t = seconds(args["agent_burnin_vm_timeout"], 86400, "agent_burnin_vm_timeout")
      const bytes = sizeOf(args["agent_burnin_vm_vm-bytes"])
      const passes = Math.max(1, Math.floor(t / 2))
      return { summary: `memtester: ${passes} pass(es) over ${bytes / MiB} MiB, no failures`, details: { tool: "memtester", passes, failures: 0, bytes, seconds: t } }
    }
    case "deploy.burnin_disk": {
      const runtime = seconds(args["agent_burnin_fio_disk_runtime"], 0, "agent_burnin_fio_disk_runtime")
      const loops = seconds(args["agent_burnin_fio_disk_loops"], 4, "agent_burnin_fio_disk_loops")
      const iops = 1500
      return { summary: `fio on 1 disk(s): read ${iops} IOPS, write ${iops} IOPS`, details: { tool: "fio", disks: [{ name: "sda", read_iops: iops, write_iops: iops, bytes: diskBytes }], runtime, loops } }
    }
    case "raid.create_configuration": {
      if (typeof args["raid_error"] === "string") throw new Error(args["raid_error"])
      const level = String(args["raid_level"])
      if (!softwareRaidLevels.includes(level as never)) throw new Error(`RAID level ${level} is not built by the software RAID`)
      // The simulated machine has one disk: RAID-1 needs two.
      if (level === "1") throw new Error("RAID-1 needs at least 2 disks; this machine has 1 (sda)")
      const sizeGb = Math.floor(diskBytes / 1024 ** 3)
      const volume = String(args["raid_volume_name"] ?? "root")
      return {
        summary: `md0 (${volume}): RAID-${level} across sda, ${diskBytes} bytes`,
        details: { raid_config: { logical_disks: [{ raid_level: level, size_gb: sizeGb, controller: "software", is_root_volume: true, volume_name: volume, physical_disks: ["sda"], device: "/dev/md0" }] } },
      }
    }
    case "raid.delete_configuration":
      return { summary: "no md array left", details: { arrays: 0 } }
    default: return null
  }
}
