// bench:iscsi — write throughput of a 1 GiB raw image to a real tgtd LUN on loopback, through the
// IscsiBlockWriter (whole writeImage: LUN size, wipe, MBR, image, UUID read-back) next to a plain
// `qemu-img convert -n` of the same image to the same root partition, in the same run, alternating.
// Goal: adapter >= 90% of plain. Usage: node bench/iscsi.ts [--rounds 5] [--image-mib 1024]
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Effect } from "effect"
import * as E from "fp-ts/lib/Either.js"
import { iscsiBlockWriter } from "../src/adapters/iscsi/index.ts"
import { TgtDaemon } from "../src/adapters/sim/tgt/index.ts"
import { computeLayout, GiB, MiB, rootPartition, type PartitionLayout } from "../src/domain/partition.ts"

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" }, "image-mib": { type: "string", default: "1024" } } })
const rounds = Number(values.rounds)
const imageBytes = Number(values["image-mib"]) * MiB

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-iscsi-"))
let tgtd: TgtDaemon | undefined
const cleanUp = async () => {
  await tgtd?.stop()
  rmSync(dir, { recursive: true, force: true })
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)))

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const mibps = (seconds: number) => imageBytes / MiB / seconds
const layoutOf = (req: { rootGb: number; swapMb: number; ephemeralGb: number }): PartitionLayout => {
  const layout = computeLayout({ ...req, diskBytes: 8 * GiB })
  if (E.isLeft(layout)) throw new Error(layout.left)
  return layout.right
}

try {
  // Random bytes: zero detection must not let either side skip work.
  const image = join(dir, "image.raw")
  const fd = openSync(image, "w")
  for (let done = 0; done < imageBytes; done += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, imageBytes - done)))
  closeSync(fd)
  readFileSync(image) // warm the page cache for both sides alike

  tgtd = await TgtDaemon.start()
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
  const rate = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, mibps(median(v))])) as Record<keyof typeof times, number>
  const line = (name: string, value: number) => console.log(`${name.padEnd(58)} ${value.toFixed(0).padStart(6)} MiB/s`)
  console.log(`iSCSI write of a ${imageBytes / MiB} MiB raw image to tgtd on loopback, median of ${rounds} rounds`)
  line("plain qemu-img convert -n (the reference command)", rate.plain)
  line("plain qemu-img convert -n -W (out-of-order writes)", rate.plainW)
  line("IscsiBlockWriter.writeImage, root-only layout", rate.adapter)
  line("IscsiBlockWriter.writeImage, + 512 MiB swap + 4 GiB ephemeral", rate.adapterFull)
  console.log(`ratio adapter / plain: ${(rate.adapter / rate.plain * 100).toFixed(0)}% (goal >= 90%); ` +
    `vs plain -W: ${(rate.adapter / rate.plainW * 100).toFixed(0)}%; full layout / plain: ${(rate.adapterFull / rate.plain * 100).toFixed(0)}%`)
} finally {
  await cleanUp()
}
