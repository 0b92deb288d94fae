// The iSCSI write measurement shared by bench:iscsi and bench:vm: one image written to a real tgtd
// LUN on loopback through the IscsiBlockWriter (whole writeImage: LUN size, wipe, MBR, image, UUID
// read-back) and by a plain `qemu-img convert -n` to the same root partition, alternating, median of
// `rounds`.
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { iscsiBlockWriter } from "../src/adapters/iscsi/index.ts"
import { TgtDaemon } from "../src/adapters/sim/tgt/index.ts"
import { computeLayout, GiB, MiB, rootPartition, type PartitionLayout } from "../src/domain/partition.ts"

export interface IscsiWriteRates {
  /** MiB/s, medians. */
  readonly plain: number
  /** qemu-img convert -W (out-of-order writes). */
  readonly plainW: number
  readonly adapter: number
  /** The adapter with 512 MiB swap and 4 GiB ephemeral partitions besides the root. */
  readonly adapterFull: number
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const layoutOf = (req: { rootGb: number; swapMb: number; ephemeralGb: number }): PartitionLayout => {
  const layout = computeLayout({ ...req, diskBytes: 8 * GiB })
  if (E.isLeft(layout)) throw new Error(layout.left)
  return layout.right
}

/** `image` is raw and at most 2 GiB; `dir` holds the LUN's backing file and the writer's scratch. */
export const measureIscsiWrites = async (image: string, rounds: number, dir: string): Promise<IscsiWriteRates> => {
  const imageBytes = readFileSync(image).length // also warms the page cache for both sides alike
  const tgtd = await TgtDaemon.start()
  try {
    const lun = await tgtd.addTarget({ iqn: "iqn.2026-11.org.ironledger.bench:disk", backingFile: join(dir, "disk.img"), sizeBytes: 8 * GiB })
    const t = lun.blockTarget
    const iscsi = `file.driver=iscsi,file.transport=tcp,file.portal=${t.portal}:${t.port},file.target=${t.iqn},file.lun=${t.lun}`
    const writer = iscsiBlockWriter({ scratchDir: dir })

    const plain = (layout: PartitionLayout, extra: string[]) => {
      const root = rootPartition(layout)
      const started = performance.now()
      const run = spawnSync("qemu-img", ["convert", "-n", ...extra, "-f", "raw", image, "--target-image-opts",
        `driver=raw,offset=${root.startBytes},size=${root.sizeBytes},${iscsi}`], { encoding: "utf8" })
      if (run.status !== 0) throw new Error(`qemu-img convert: ${run.stderr}`)
      return (performance.now() - started) / 1000
    }
    const adapter = async (layout: PartitionLayout) => {
      const started = performance.now()
      await Effect.runPromise(writer.writeImage({ target: t, layout, imagePath: image, preserveEphemeral: false }))
      return (performance.now() - started) / 1000
    }

    const rootOnly = layoutOf({ rootGb: 2, swapMb: 0, ephemeralGb: 0 })
    const full = layoutOf({ rootGb: 2, swapMb: 512, ephemeralGb: 4 })
    const times = { plain: [] as number[], plainW: [] as number[], adapter: [] as number[], adapterFull: [] as number[] }
    // A first, uncounted round allocates the sparse backing file's blocks, which costs the first
    // writer to each range far more than the next ones.
    plain(rootOnly, [])
    await adapter(full)
    for (let round = 0; round < rounds; round++) {
      // Alternating the order cancels drift (page cache, the machine's other load).
      const steps: Array<() => Promise<void>> = [
        async () => { times.plain.push(plain(rootOnly, [])) },
        async () => { times.adapter.push(await adapter(rootOnly)) },
        async () => { times.plainW.push(plain(rootOnly, ["-W"])) },
        async () => { times.adapterFull.push(await adapter(full)) },
      ]
      for (const step of round % 2 === 0 ? steps : steps.reverse()) {
        // Untimed: the previous run's dirty pages in tgtd's backing file must not be flushed on the
        // next one's clock (the adapter's first small write flushes; a plain convert may not).
        spawnSync("sync")
        await step()
      }
    }
    const rate = (xs: number[]) => imageBytes / MiB / median(xs)
    return { plain: rate(times.plain), plainW: rate(times.plainW), adapter: rate(times.adapter), adapterFull: rate(times.adapterFull) }
  } finally {
    await tgtd.stop()
  }
}

export const printIscsiWrites = (rates: IscsiWriteRates, imageMib: number, rounds: number) => {
  const line = (name: string, value: number) => console.log(`${name.padEnd(58)} ${value.toFixed(0).padStart(6)} MiB/s`)
  console.log(`iSCSI write of a ${imageMib} MiB raw image to tgtd on loopback, median of ${rounds} rounds`)
  line("plain qemu-img convert -n (the reference command)", rates.plain)
  line("plain qemu-img convert -n -W (out-of-order writes)", rates.plainW)
  line("IscsiBlockWriter.writeImage, root-only layout", rates.adapter)
  line("IscsiBlockWriter.writeImage, + 512 MiB swap + 4 GiB ephemeral", rates.adapterFull)
  console.log(`ratio adapter / plain: ${(rates.adapter / rates.plain * 100).toFixed(0)}% (goal >= 90%); ` +
    `vs plain -W: ${(rates.adapter / rates.plainW * 100).toFixed(0)}%; full layout / plain: ${(rates.adapterFull / rates.plain * 100).toFixed(0)}%`)
}
