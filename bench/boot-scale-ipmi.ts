// bench:boot-scale, IPMI part: one power sync round (chassis power status of every BMC, so many at
// a time, as the conductor's power sync asks) through the ipmitool adapter, real ipmitool against
// N real ipmi_sim BMCs on loopback. CPU: this process with its reaped ipmitool children, and the
// ipmi_sim processes (each answer runs the BMC's chassis control script).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { makeIpmitoolPowerDriver } from "../src/adapters/ipmi/ipmitool-power-driver.ts"
import { startBmc, type SimBmc } from "../src/adapters/sim/bmc/launcher.ts"
import { cpuOfPid, cpuOfSelf, percentile, stopOnInterrupt, type Row } from "./boot-scale-measure.ts"

export interface IpmiBenchOptions {
  readonly counts: ReadonlyArray<number>
  /** BMCs asked at a time in a round (the conductor's power sync asks 8). */
  readonly concurrency: ReadonlyArray<number>
  readonly firstPort: number
  readonly address: string
}

/** Starts BMCs until `into` holds `count`, numbered on from those already there. */
const startAll = async (count: number, dir: string, options: IpmiBenchOptions, into: SimBmc[]) => {
  let next = into.length
  const lane = async () => {
    while (next < count) {
      const i = next++
      into.push(await startBmc({
        name: `bench-bmc-${i}`, port: options.firstPort + i, address: options.address, username: "admin", password: "bench-secret",
        stateDir: join(dir, `bmc-${i}`), readyTimeoutMs: 60_000,
      }))
    }
  }
  // Every lane ends before a failure is thrown: no BMC starts after the caller stopped the others.
  const lanes = await Promise.allSettled(Array.from({ length: 8 }, lane))
  const failed = lanes.find((l) => l.status === "rejected")
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
}

export const benchIpmi = async (options: IpmiBenchOptions): Promise<Row[]> => {
  const rows: Row[] = []
  const bmcs: SimBmc[] = []
  const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-ipmi-"))
  const forget = stopOnInterrupt(() => Promise.all(bmcs.map((b) => b.stop())))
  try {
    for (const count of [...options.counts].sort((a, b) => a - b)) {
      const started = performance.now()
      await startAll(count, dir, options, bmcs)
      const startS = (performance.now() - started) / 1000
      for (const concurrency of options.concurrency) {
        // A driver of its own per round: no pacing carried over from the round before.
        const driver = makeIpmitoolPowerDriver()
        const asked = bmcs.slice(0, count)
        const simCpu0 = asked.reduce((sum, b) => sum + cpuOfPid(b.pid), 0)
        const cpu0 = cpuOfSelf()
        const wall0 = performance.now()
        const latencies: number[] = []
        let failures = 0
        await Effect.runPromise(Effect.forEach(asked, (b) => Effect.suspend(() => {
          const t = performance.now()
          return driver.status(b.access).pipe(
            Effect.tap(() => Effect.sync(() => { latencies.push(performance.now() - t) })),
            Effect.catchCause(() => Effect.sync(() => { failures++ })),
          )
        }), { concurrency, discard: true }))
        const wallS = (performance.now() - wall0) / 1000
        const cpu = cpuOfSelf() - cpu0
        const simCpu = asked.reduce((sum, b) => sum + cpuOfPid(b.pid), 0) - simCpu0
        rows.push({
          part: "ipmi sync round", scale: `${count} BMCs, ${concurrency} at a time`,
          figures: {
            "round wall s": wallS, "per BMC wall ms": percentile(latencies, 50), "p99 ms": percentile(latencies, 99), failures,
            "service+ipmitool CPU s": cpu / 1000, "CPU ms/BMC": cpu / count, "ipmi_sim CPU s": simCpu / 1000,
            "BMCs/s": count / wallS, "start BMCs s": startS,
          },
        })
      }
    }
  } finally {
    forget()
    await Promise.all(bmcs.map((b) => b.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
