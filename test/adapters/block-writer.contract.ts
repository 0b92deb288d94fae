// The BlockWriter contract: every adapter of the port must pass it. What the writer did is judged from
// the disk's backing file with the real tools (sfdisk, blkid, e2fsck, debugfs, hashes), never from
// what the writer says about itself.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { spawnSync } from "node:child_process"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Layer from "effect/Layer"
import * as E from "fp-ts/lib/Either.js"
import { computeLayout, GiB, MiB, type PartitionLayout, type PartitionRequest } from "../../src/domain/partition.ts"
import { BlockWriter, type BlockTarget, type BlockWriteFailed, type WriteRequest, type WriteResult } from "../../src/ports/block-writer.ts"
import {
  allocatedDigest, blkid, extract, fillRange, journalExtent, makeTestImages, rawCopy, readRange, sfdisk, sh, sha256File, sha256Range, sparseFile, writeRange, type TestImages,
} from "./block-writer.fixtures.ts"

export interface BlockWriterUnderTest {
  readonly layer: Layer.Layer<BlockWriter>
  /** A new disk (a sparse file of `sizeBytes` the test reads directly) exported as a target; with `chap`, logging in requires it. */
  readonly newDisk: (sizeBytes: number, chap?: { readonly user: string; readonly secret: string }) => Promise<{ readonly target: BlockTarget; readonly path: string }>
  /** A target address nobody exports. */
  readonly unknownTarget: BlockTarget
  readonly close: () => Promise<void>
}

const DISK = 4 * GiB
const KiB = 1024
const WIPE = 18 * KiB

const layoutOf = (req: Partial<PartitionRequest> = {}): PartitionLayout => {
  const layout = computeLayout({ rootGb: 1, swapMb: 64, ephemeralGb: 1, diskBytes: DISK, ...req })
  if (E.isLeft(layout)) throw new Error(layout.left)
  return layout.right
}
const part = (layout: PartitionLayout, role: "root" | "swap" | "ephemeral") => layout.partitions.find((p) => p.role === role)!

export const blockWriterContract = (name: string, open: () => Promise<BlockWriterUnderTest>) =>
  describe(`BlockWriter contract: ${name}`, () => {
    let sut: BlockWriterUnderTest
    let writer: BlockWriter["Service"]
    let images: TestImages
    let dir: string
    const layout = layoutOf()
    const root = part(layout, "root")
    const swap = part(layout, "swap")
    const ephemeral = part(layout, "ephemeral")

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "ironledger-bw-test-"))
      images = makeTestImages(dir)
      sut = await open()
      writer = await Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* BlockWriter }), sut.layer))
    })
    after(async () => {
      await sut?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    const write = (req: Omit<WriteRequest, "preserveEphemeral"> & { preserveEphemeral?: boolean }): Promise<WriteResult> =>
      Effect.runPromise(writer.writeImage({ preserveEphemeral: false, ...req }))
    const refusal = (req: Omit<WriteRequest, "preserveEphemeral"> & { preserveEphemeral?: boolean }): Promise<BlockWriteFailed> =>
      Effect.runPromise(Effect.flip(writer.writeImage({ preserveEphemeral: false, ...req })))
    const rawOf = (image: string) => {
      const out = join(dir, `raw-${Math.random().toString(36).slice(2)}.raw`)
      rawCopy(image, out)
      return out
    }
    /** The root partition holds exactly the image's virtual bytes. */
    const assertRootHolds = async (disk: string, image: string) => {
      const raw = rawOf(image)
      const size = statSync(raw).size
      assert.equal(await sha256Range(disk, root.startBytes, size), await sha256File(raw), `root partition bytes equal ${image}'s raw content`)
      rmSync(raw)
    }
    /** Digests of the places a refused write could have touched, and the file's allocation. */
    const fingerprint = async (disk: string) => ({
      head: await sha256Range(disk, 0, 2 * MiB),
      ephemeral: await sha256Range(disk, ephemeral.startBytes, 4 * MiB),
      swap: await sha256Range(disk, swap.startBytes, 4 * MiB),
      root: await sha256Range(disk, root.startBytes, 8 * MiB),
      tail: await sha256Range(disk, DISK - MiB, MiB),
      blocks: statSync(disk).blocks,
    })
    /** Old data everywhere a deploy writes, so that nothing passes by being zero already. */
    const dirty = (disk: string) => {
      for (const offset of [0, ephemeral.startBytes, swap.startBytes, root.startBytes, DISK - 2 * MiB]) fillRange(disk, offset, 2 * MiB, 0xa5)
    }

    test("writes the layout's partition table, swap, ephemeral ext4 and a raw image into root, reporting progress", async () => {
      const { target, path } = await sut.newDisk(DISK)
      dirty(path)
      const progress: Array<[number, number]> = []
      const result = await write({ target, layout, imagePath: images.rootA, onProgress: (done, total) => progress.push([done, total]) })

      const table = sfdisk(path)
      assert.equal(table.label, "dos")
      assert.deepEqual(
        table.partitions.map((p) => ({ start: p.start, size: p.size, type: p.type })),
        layout.partitions.map((p) => ({ start: p.startBytes / 512, size: p.sizeBytes / 512, type: p.mbrType.toString(16) })),
      )
      assert.equal(result.diskId, table.id.replace(/^0x/, ""), "diskId is the MBR disk signature")
      assert.equal(blkid(path, "PTUUID"), result.diskId)

      await assertRootHolds(path, images.rootA)
      assert.equal(result.rootUuid, images.rootAUuid)
      assert.equal(blkid(path, "UUID", { offset: root.startBytes, length: root.sizeBytes }), images.rootAUuid)
      assert.equal(blkid(path, "TYPE", { offset: swap.startBytes, length: swap.sizeBytes }), "swap")
      assert.equal(blkid(path, "TYPE", { offset: ephemeral.startBytes, length: ephemeral.sizeBytes }), "ext4")
      assert.equal(blkid(path, "LABEL", { offset: ephemeral.startBytes, length: ephemeral.sizeBytes }), "ephemeral0")
      assert.ok(readRange(path, DISK - WIPE, WIPE).every((b) => b === 0), "the last 18 KiB are wiped")

      const size = statSync(images.rootA).size
      assert.equal(result.bytesWritten, size)
      assert.ok(result.durationMs >= 0)
      assert.ok(progress.length >= 2, `progress was reported (${progress.length} calls)`)
      assert.ok(progress.every(([, total]) => total === size), "the total is the image size")
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]![0] > progress[i - 1]![0], "progress only increases")
      assert.deepEqual(progress[progress.length - 1], [size, size])
    })

    test("a qcow2 image is converted: the root partition holds its raw content", async () => {
      const { target, path } = await sut.newDisk(DISK)
      const result = await write({ target, layout, imagePath: images.rootAQcow2 })
      await assertRootHolds(path, images.rootA)
      assert.equal(result.rootUuid, images.rootAUuid)
      assert.equal(result.bytesWritten, statSync(images.rootA).size, "bytesWritten is the virtual size")
    })

    test("the format is read from the content: a qcow2 named .raw is still converted", async () => {
      const { target, path } = await sut.newDisk(DISK)
      const result = await write({ target, layout, imagePath: images.qcow2NamedRaw })
      await assertRootHolds(path, images.rootA)
      assert.equal(result.rootUuid, images.rootAUuid)
    })

    test("the ephemeral filesystem is clean over old data: fsck passes, one signature, journal zeroed", async () => {
      const { target, path } = await sut.newDisk(DISK)
      // Old bytes where mkfs writes: the first groups' metadata and where the journal will go
      // (found by a reference mkfs of the same size; checked below against the deployed one).
      const reference = join(dir, "reference.ext4")
      sparseFile(reference, ephemeral.sizeBytes)
      sh("mkfs.ext4", ["-q", reference])
      const journal = journalExtent(reference)
      rmSync(reference)
      fillRange(path, ephemeral.startBytes, 8 * MiB, 0xaa)
      fillRange(path, ephemeral.startBytes + journal.offset, journal.length, 0xaa)
      // An old swap signature at the partition start: mkfs wipes it, so must the copy of mkfs's work.
      const oldSwap = join(dir, "old-swap.img")
      sparseFile(oldSwap, 64 * MiB)
      sh("mkswap", ["-q", oldSwap])
      writeRange(path, ephemeral.startBytes, readRange(oldSwap, 0, 4096))
      rmSync(oldSwap)
      assert.equal(blkid(path, "TYPE", { offset: ephemeral.startBytes, length: ephemeral.sizeBytes }), "swap", "the old signature is there")

      await write({ target, layout, imagePath: images.rootA })
      const fs = join(dir, "ephemeral.img")
      extract(path, ephemeral.startBytes, ephemeral.sizeBytes, fs)
      const fsck = spawnSync("e2fsck", ["-fn", fs], { encoding: "utf8", timeout: 60_000 })
      assert.equal(fsck.status, 0, `e2fsck -fn: ${fsck.stdout}${fsck.stderr}`)
      const probe = spawnSync("blkid", ["-p", fs], { encoding: "utf8" })
      assert.equal(probe.status, 0, `blkid -p finds one filesystem: ${probe.stdout}${probe.stderr}`)
      assert.match(probe.stdout, /TYPE="ext4"/)
      const deployed = journalExtent(fs)
      assert.deepEqual(deployed, journal, "the journal sits where the old bytes were put")
      // Block 0 is the journal superblock; the rest must not hold the old bytes.
      assert.ok(readRange(fs, deployed.offset + 4096, deployed.length - 4096).every((b) => b === 0), "the journal is zeroed")
      rmSync(fs)
    })

    test("preserve_ephemeral keeps the partition table and the ephemeral bytes, rewriting root and swap", async () => {
      const { target, path } = await sut.newDisk(DISK)
      const first = await write({ target, layout, imagePath: images.rootA })
      writeRange(path, ephemeral.startBytes + 300 * MiB, Buffer.from("user data that must survive a rebuild"))
      fillRange(path, swap.startBytes, 4096, 0) // swap signature gone: a rebuild must write it again
      const table = await sha256Range(path, 0, MiB)
      const data = await allocatedDigest(path, ephemeral.startBytes, ephemeral.sizeBytes)
      const result = await write({ target, layout, imagePath: images.rootBQcow2, preserveEphemeral: true })
      assert.equal(await sha256Range(path, 0, MiB), table, "the first MiB (MBR and gap) is byte-identical")
      assert.equal(await allocatedDigest(path, ephemeral.startBytes, ephemeral.sizeBytes), data, "the ephemeral partition is byte-identical")
      await assertRootHolds(path, images.rootBRaw)
      assert.equal(result.rootUuid, images.rootBUuid)
      assert.equal(result.diskId, first.diskId, "the disk keeps its identifier")
      assert.equal(blkid(path, "TYPE", { offset: swap.startBytes, length: swap.sizeBytes }), "swap")
    })

    test("preserve_ephemeral refuses a disk whose partition table is not the layout's, touching nothing", async () => {
      const { target, path } = await sut.newDisk(DISK)
      await write({ target, layout, imagePath: images.rootA })
      const before = await fingerprint(path)
      const other = layoutOf({ swapMb: 128 })
      const failure = await refusal({ target, layout: other, imagePath: images.rootBQcow2, preserveEphemeral: true })
      assert.equal(failure._tag, "BlockWriteFailed")
      assert.match(failure.reason, /cannot preserve the ephemeral partition: partition 2 \(swap\)/)
      assert.deepEqual(await fingerprint(path), before)
      const blank = await sut.newDisk(DISK)
      const noTable = await refusal({ target: blank.target, layout, imagePath: images.rootA, preserveEphemeral: true })
      assert.match(noTable.reason, /no MBR partition table/)
    })

    test("an image larger than the root partition is refused before anything is written", async () => {
      const { target, path } = await sut.newDisk(DISK)
      dirty(path)
      const before = await fingerprint(path)
      for (const imagePath of [images.tooBigRaw, images.tooBigQcow2]) {
        const progress: number[] = []
        const failure = await refusal({ target, layout, imagePath, onProgress: (done) => progress.push(done) })
        assert.match(failure.reason, /virtual size \(\d+ bytes\) is larger than the root partition \(1073741824 bytes\)/)
        assert.deepEqual(progress, [], "no byte was reported written")
      }
      assert.deepEqual(await fingerprint(path), before, "the disk is untouched")
    })

    test("a layout that does not fit the disk is refused before anything is written", async () => {
      const { target, path } = await sut.newDisk(2 * GiB)
      const before = await sha256Range(path, 0, 2 * MiB)
      const failure = await refusal({ target, layout, imagePath: images.rootA })
      assert.match(failure.reason, /layout needs \d+ bytes but the disk has 2147483648/)
      assert.equal(await sha256Range(path, 0, 2 * MiB), before)
      assert.equal(statSync(path).blocks, 0)
    })

    test("images qemu would follow elsewhere or misread are refused: backing files, other formats", async () => {
      const { target, path } = await sut.newDisk(DISK)
      const backed = await refusal({ target, layout, imagePath: images.backedQcow2 })
      assert.match(backed.reason, /names a backing file/)
      const vmdk = await refusal({ target, layout, imagePath: images.vmdk })
      assert.match(vmdk.reason, /vmdk format/)
      const missing = await refusal({ target, layout, imagePath: join(dir, "no-such-image") })
      assert.match(missing.reason, /cannot read the image/)
      assert.equal(statSync(path).blocks, 0, "nothing was written")
    })

    test("a whole-disk image is written from offset 0 and the disk identifier returned (MBR and GPT)", async () => {
      for (const image of [images.wholeMbr, images.wholeGpt]) {
        const { target, path } = await sut.newDisk(DISK)
        dirty(path)
        const result = await write({ target, layout: null, imagePath: image })
        const size = statSync(image).size
        assert.equal(await sha256Range(path, 0, size), await sha256File(image))
        assert.equal(result.rootUuid, null)
        assert.equal(result.diskId, blkid(image, "PTUUID"))
        assert.ok(result.diskId && result.diskId.length >= 8)
        assert.ok(readRange(path, DISK - WIPE, WIPE).every((b) => b === 0), "the old backup table at the end is wiped")
      }
      const { target } = await sut.newDisk(DISK)
      const preserve = await refusal({ target, layout: null, imagePath: images.wholeMbr, preserveEphemeral: true })
      assert.match(preserve.reason, /preserve_ephemeral needs a partition image/)
    })

    test("a whole-disk image larger than the disk is refused before anything is written", async () => {
      const { target, path } = await sut.newDisk(64 * MiB - MiB)
      const failure = await refusal({ target, layout: null, imagePath: images.wholeMbr })
      assert.match(failure.reason, /larger than the disk/)
      assert.equal(statSync(path).blocks, 0)
    })

    test("CHAP: the right secret logs in, a wrong or missing one is refused with a clear reason", async () => {
      const secret = "s3cret-chap-value"
      const { target, path } = await sut.newDisk(DISK, { user: "deployer", secret })
      const wrong = { ...target, chap: { user: "deployer", secret: Redacted.make("not-the-secret") } }
      const failure = await refusal({ target: wrong, layout, imagePath: images.rootA })
      assert.equal(failure._tag, "BlockWriteFailed")
      assert.match(failure.reason, /CHAP authentication failed/)
      assert.ok(!failure.message.includes("not-the-secret") && !failure.message.includes(secret), "no secret in the error")
      const { chap: _, ...anonymous } = target
      const none = await refusal({ target: anonymous, layout, imagePath: images.rootA })
      assert.match(none.reason, /requires CHAP authentication/)
      assert.equal(statSync(path).blocks, 0, "nothing was written")
      const wipeFailure = await Effect.runPromise(Effect.flip(writer.wipe(wrong)))
      assert.match(wipeFailure.reason, /CHAP authentication failed/)

      const result = await write({ target, layout, imagePath: images.rootA })
      await assertRootHolds(path, images.rootA)
      assert.equal(result.rootUuid, images.rootAUuid)
    })

    test("a target nobody exports fails with BlockWriteFailed", async () => {
      const failure = await refusal({ target: sut.unknownTarget, layout, imagePath: images.rootA })
      assert.equal(failure._tag, "BlockWriteFailed")
      assert.match(failure.reason, /Target not found/)
      assert.match(failure.target, /^iscsi:\/\//)
    })

    test("an invalid target name is refused before any connection", async () => {
      const { target } = await sut.newDisk(DISK)
      const failure = await refusal({ target: { ...target, iqn: "iqn.2026-11.test:x,file.filename=/etc/passwd" }, layout, imagePath: images.rootA })
      assert.match(failure.reason, /invalid target name/)
    })

    test("wipe zeroes exactly the first and last 18 KiB", async () => {
      const { target, path } = await sut.newDisk(DISK)
      fillRange(path, 0, 64 * KiB, 0xaa)
      fillRange(path, DISK - 64 * KiB, 64 * KiB, 0xaa)
      await Effect.runPromise(writer.wipe(target))
      assert.ok(readRange(path, 0, WIPE).every((b) => b === 0), "first 18 KiB zeroed")
      assert.ok(readRange(path, WIPE, 64 * KiB - WIPE).every((b) => b === 0xaa), "the rest of the head untouched")
      assert.ok(readRange(path, DISK - WIPE, WIPE).every((b) => b === 0), "last 18 KiB zeroed")
      assert.ok(readRange(path, DISK - 64 * KiB, 64 * KiB - WIPE).every((b) => b === 0xaa), "the rest of the tail untouched")
    })
  })
