// bench:boot-scale, deploy part: N deploys at once of one qcow2 image onto N iSCSI LUNs of a real
// tgtd, through the image store (the raw conversion, made once per image and shared) and the
// IscsiBlockWriter (qemu-img convert over iSCSI), as a conductor's deploys write disks. Prints the
// aggregate MiB/s and deploys per minute against N, with CPU: this process and its qemu-img
// children, and tgtd.
import { spawnSync } from "node:child_process"
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { makeFsImageStore } from "../src/adapters/images/fs-image-store.ts"
import { iscsiBlockWriter } from "../src/adapters/iscsi/index.ts"
import { TgtDaemon } from "../src/adapters/sim/tgt/index.ts"
import { computeLayout, GiB, MiB } from "../src/domain/partition.ts"
import { cpuOfPid, cpuOfSelf, stopOnInterrupt, type Row } from "./boot-scale-measure.ts"

export interface DeployBenchOptions {
  readonly counts: ReadonlyArray<number>
  readonly imageMib: number
}

/** A raw image, half random (as an OS image's used blocks) and half zeros, converted to qcow2. */
const makeImage = (dir: string, mib: number) => {
  const raw = join(dir, "source.raw")
  const fd = openSync(raw, "w")
  for (let at = 0; at < mib; at++) writeSync(fd, at % 2 === 0 ? randomBytes(MiB) : Buffer.alloc(MiB))
  closeSync(fd)
  const qcow2 = join(dir, "source.qcow2")
  const out = spawnSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2], { encoding: "utf8" })
  if (out.status !== 0) throw new Error(`qemu-img convert: ${out.stderr}`)
  rmSync(raw)
  return qcow2
}

export const benchDeploys = async (options: DeployBenchOptions): Promise<Row[]> => {
  const rows: Row[] = []
  const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-deploy-"))
  const tgtd = await TgtDaemon.start()
  const forget = stopOnInterrupt(() => tgtd.stop())
  try {
    const store = await makeFsImageStore({ root: join(dir, "store") })
    const image = await Effect.runPromise(store.importFile(makeImage(dir, options.imageMib)))
    const layout = computeLayout({ rootGb: Math.ceil(options.imageMib / 1024) + 0, swapMb: 0, ephemeralGb: 0, diskBytes: 2 * GiB + options.imageMib * MiB })
    if (E.isLeft(layout)) throw new Error(layout.left)
    mkdirSync(join(dir, "scratch"))
    const writer = iscsiBlockWriter({ scratchDir: join(dir, "scratch") })
    let round = 0
    for (const count of options.counts) {
      round++
      const luns = await Promise.all(Array.from({ length: count }, (_, i) => tgtd.addTarget({
        iqn: `iqn.2026-11.org.ironledger.bench:r${round}-d${i}`, backingFile: join(dir, `disk-${round}-${i}.img`),
        sizeBytes: 2 * GiB + options.imageMib * MiB,
      })))
      try {
        spawnSync("sync")
        const cpu0 = cpuOfSelf()
        const tgt0 = cpuOfPid(tgtd.pid)
        const wall0 = performance.now()
        await Promise.all(luns.map(async (lun) => {
          // Every deploy asks for the raw form; the store converts once and shares it.
          const raw = await Effect.runPromise(store.rawPathOf(image.id))
          await Effect.runPromise(writer.writeImage({ target: lun.blockTarget, layout: layout.right, imagePath: raw, preserveEphemeral: false }))
        }))
        const wallS = (performance.now() - wall0) / 1000
        const cpu = cpuOfSelf() - cpu0
        rows.push({
          part: "deploy", scale: `${count} at once, ${options.imageMib} MiB image`,
          figures: {
            "wall s": wallS, "aggregate MiB/s": (count * options.imageMib) / wallS, "deploys/min": (count / wallS) * 60,
            "service+qemu-img CPU s": cpu / 1000, "tgtd CPU s": (cpuOfPid(tgtd.pid) - tgt0) / 1000,
            "raw conversions so far": readdirSync(join(dir, "store", "raw")).filter((n) => !n.endsWith(".json")).length,
          },
        })
      } finally {
        for (const lun of luns) await tgtd.removeTarget(lun.tid)
        for (const lun of luns) rmSync(lun.backingFile, { force: true })
      }
    }
  } finally {
    forget()
    await tgtd.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}
