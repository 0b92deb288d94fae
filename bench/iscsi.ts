// bench:iscsi — write throughput of a 1 GiB raw image to a real tgtd LUN on loopback, through the
// IscsiBlockWriter (whole writeImage: LUN size, wipe, MBR, image, UUID read-back) next to a plain
// `qemu-img convert -n` of the same image to the same root partition, in the same run, alternating
// (./iscsi-write.ts). Goal: adapter >= 90% of plain. Usage: node bench/iscsi.ts [--rounds 5] [--image-mib 1024]
import { randomBytes } from "node:crypto"
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { MiB } from "../src/domain/partition.ts"
import { measureIscsiWrites, printIscsiWrites } from "./iscsi-write.ts"

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" }, "image-mib": { type: "string", default: "1024" } } })
const rounds = Number(values.rounds)
const imageBytes = Number(values["image-mib"]) * MiB

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-iscsi-"))
const cleanUp = () => rmSync(dir, { recursive: true, force: true })
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => { cleanUp(); process.exit(130) })

try {
  // Random bytes: zero detection must not let either side skip work.
  const image = join(dir, "image.raw")
  const fd = openSync(image, "w")
  for (let done = 0; done < imageBytes; done += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, imageBytes - done)))
  closeSync(fd)
  printIscsiWrites(await measureIscsiWrites(image, rounds, dir), imageBytes / MiB, rounds)
} finally {
  cleanUp()
}
