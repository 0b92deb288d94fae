// The ImageStore contract: every adapter of the port must pass it. Input images are made by the real
// qemu-img, and what it reports (format, virtual size, raw bytes) is the expected answer.
import { execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, afterEach, before, beforeEach, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { ImageStore, type ImageError } from "../../src/ports/image-store.ts"

export interface ImageStoreUnderTest {
  readonly layer: Layer.Layer<ImageStore>
  /** The bytes behind a path the store returned. */
  readonly bytesAt: (path: string) => Promise<Uint8Array>
  /** Damages the stored image of `id` (same size, one byte changed), as bit rot would. */
  readonly corrupt: (id: string) => Promise<void>
  /** How many raw conversions have started, observed outside the store's own bookkeeping. */
  readonly conversions: () => Promise<number>
  /** Holds conversions at their start until the returned release is called. */
  readonly holdConversions: () => Promise<() => Promise<void>>
  /** Every stored object (including temporaries), named so that each one names its image id. */
  readonly entries: () => Promise<ReadonlyArray<string>>
  readonly close: () => Promise<void>
}

interface Fixture { readonly path: string; readonly sha256: string; readonly format: string; readonly virtualSize: number }

const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { encoding: "utf8", timeout: 30_000 })
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

const makeFixtures = (dir: string) => {
  const fixture = (name: string): Fixture => {
    const path = join(dir, name)
    const info = JSON.parse(qemuImg("info", "--output=json", path))
    return { path, sha256: sha256(readFileSync(path)), format: info.format, virtualSize: info["virtual-size"] }
  }
  // A kernel-like blob whose size is not a whole number of sectors.
  writeFileSync(join(dir, "kernel"), randomBytes(1024 * 1024 + 100))
  // A 4 MiB disk: random data (stored plain even with -c), text (compressible), a hole, random again.
  const disk = Buffer.alloc(4 << 20)
  randomBytes(1 << 20).copy(disk, 0)
  Buffer.from("ironledger writes this disk. ".repeat(20_000)).copy(disk, 1 << 20)
  randomBytes(64 << 10).copy(disk, (4 << 20) - (64 << 10))
  writeFileSync(join(dir, "disk.img"), disk)
  qemuImg("convert", "-f", "raw", "-O", "qcow2", join(dir, "disk.img"), join(dir, "disk.qcow2"))
  qemuImg("convert", "-c", "-f", "raw", "-O", "qcow2", join(dir, "disk.img"), join(dir, "packed.qcow2"))
  qemuImg("convert", "-f", "raw", "-O", "vmdk", join(dir, "disk.img"), join(dir, "disk.vmdk"))
  qemuImg("create", "-f", "qcow2", "-b", join(dir, "disk.qcow2"), "-F", "qcow2", join(dir, "overlay.qcow2"))
  qemuImg("create", "-f", "qcow2", join(dir, "blank.qcow2"), "16M")
  qemuImg("convert", "-f", "qcow2", "-O", "raw", join(dir, "disk.qcow2"), join(dir, "expected.raw"))
  return {
    kernel: fixture("kernel"), rawDisk: fixture("disk.img"), qcow2: fixture("disk.qcow2"),
    packed: fixture("packed.qcow2"), blank: fixture("blank.qcow2"),
    vmdk: join(dir, "disk.vmdk"), overlay: join(dir, "overlay.qcow2"),
    expectedRaw: sha256(readFileSync(join(dir, "expected.raw"))),
  }
}

// Contents are compared by sha256: a mismatch then reports two hashes, not a multi-MiB diff.
const contentOf = async (sut: ImageStoreUnderTest, path: string) => sha256(await sut.bytesAt(path))
const run = <A>(effect: Effect.Effect<A, ImageError>) => Effect.runPromise(effect)
const failure = <A>(effect: Effect.Effect<A, ImageError>) => Effect.runPromise(Effect.flip(effect))

export const imageStoreContract = (name: string, open: () => Promise<ImageStoreUnderTest>) =>
  describe(`ImageStore contract: ${name}`, { timeout: 120_000 }, () => {
    let dir: string
    let fx: ReturnType<typeof makeFixtures>
    let sut: ImageStoreUnderTest
    let store: ImageStore["Service"]

    before(() => { dir = mkdtempSync(join(tmpdir(), "ironledger-images-in-")); fx = makeFixtures(dir) })
    after(() => rmSync(dir, { recursive: true, force: true }))
    beforeEach(async () => {
      sut = await open()
      store = await Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* ImageStore }), sut.layer))
    })
    afterEach(() => sut.close())

    test("import returns the sha256 of the content and qemu-img's format and virtual size", async () => {
      for (const f of [fx.kernel, fx.rawDisk, fx.qcow2, fx.packed, fx.blank]) {
        const expected = { id: f.sha256, format: f.format, sizeBytes: readFileSync(f.path).length, virtualSizeBytes: f.virtualSize }
        assert.deepEqual(await run(store.importFile(f.path)), expected, f.path)
        assert.deepEqual(await run(store.info(f.sha256)), expected, f.path)
      }
      assert.equal(fx.kernel.virtualSize, 1024 * 1024 + 512) // qemu-img counts whole sectors
      assert.deepEqual([fx.qcow2.format, fx.qcow2.virtualSize, fx.blank.virtualSize], ["qcow2", 4 << 20, 16 << 20])
    })

    test("pathOf gives the imported bytes; an unknown or malformed id is ImageNotFound", async () => {
      const { id } = await run(store.importFile(fx.qcow2.path))
      assert.equal(await contentOf(sut, await run(store.pathOf(id))), sha256(readFileSync(fx.qcow2.path)))
      for (const bad of [fx.kernel.sha256, "../../../etc/passwd", id.toUpperCase(), ""]) {
        for (const e of [await failure(store.info(bad)), await failure(store.pathOf(bad)), await failure(store.rawPathOf(bad))])
          assert.equal(e._tag, "ImageNotFound", bad)
      }
    })

    test("re-importing the same content is idempotent: same id, one stored copy", async () => {
      const first = await run(store.importFile(fx.qcow2.path))
      const stored = await sut.entries()
      assert.ok(stored.some((e) => e.includes(first.id)))
      const copy = join(dir, "copy-of-disk.qcow2")
      copyFileSync(fx.qcow2.path, copy)
      assert.deepEqual(await run(store.importFile(copy, fx.qcow2.sha256.toUpperCase())), first)
      assert.deepEqual(await sut.entries(), stored)
    })

    test("a wrong expected checksum is refused and nothing is stored", async () => {
      const e = await failure(store.importFile(fx.qcow2.path, fx.kernel.sha256))
      assert.equal(e._tag, "ImageImportFailed")
      assert.match(e.message, new RegExp(`hashes to ${fx.qcow2.sha256}`))
      assert.equal((await failure(store.importFile(fx.qcow2.path, "abc")))._tag, "ImageImportFailed")
      assert.deepEqual(await sut.entries(), [])
      assert.equal((await failure(store.info(fx.qcow2.sha256)))._tag, "ImageNotFound")
    })

    test("other formats, backing files, empty and missing files are refused, leaving nothing", async () => {
      const empty = join(dir, "empty")
      writeFileSync(empty, "")
      const cases: Array<[string, RegExp]> = [
        [fx.vmdk, /format vmdk is not supported/], [fx.overlay, /backing file/],
        [empty, /empty/], [join(dir, "no-such-file"), /ENOENT/],
      ]
      for (const [path, reason] of cases) {
        const e = await failure(store.importFile(path))
        assert.equal(e._tag, "ImageImportFailed", path)
        assert.match(e.message, reason)
      }
      assert.deepEqual(await sut.entries(), [])
    })

    test("corruption after import is detected by pathOf and rawPathOf, even with a cached conversion", async () => {
      const kernel = await run(store.importFile(fx.kernel.path))
      const disk = await run(store.importFile(fx.qcow2.path))
      await run(store.rawPathOf(disk.id))
      for (const id of [kernel.id, disk.id]) {
        await run(store.pathOf(id))
        await sut.corrupt(id)
        for (const use of [store.pathOf, store.rawPathOf]) {
          const e = await failure(use(id))
          assert.equal(e._tag, "ImageCorrupt")
          assert.ok(e._tag === "ImageCorrupt" && e.id === id && e.actual !== id && /^[0-9a-f]{64}$/.test(e.actual))
        }
      }
      // Importing the good content again repairs the store.
      await run(store.importFile(fx.kernel.path))
      assert.equal(await contentOf(sut, await run(store.pathOf(kernel.id))), sha256(readFileSync(fx.kernel.path)))
    })

    test("10 concurrent raw requests for one qcow2 convert it once, to qemu-img's bytes", async () => {
      const { id } = await run(store.importFile(fx.qcow2.path))
      const paths = await run(Effect.all(Array.from({ length: 10 }, () => store.rawPathOf(id)), { concurrency: "unbounded" }))
      assert.equal(await sut.conversions(), 1)
      assert.equal(new Set(paths).size, 1)
      assert.equal(await contentOf(sut, paths[0]!), fx.expectedRaw)
      assert.equal(await run(store.rawPathOf(id)), paths[0])
      assert.equal(await sut.conversions(), 1, "the conversion is cached")
      // Compressed clusters give the same disk.
      const packed = await run(store.importFile(fx.packed.path))
      assert.equal(await contentOf(sut, await run(store.rawPathOf(packed.id))), fx.expectedRaw)
      assert.equal(await sut.conversions(), 2)
    })

    test("a raw image is its own raw form: no conversion", async () => {
      const { id } = await run(store.importFile(fx.rawDisk.path))
      assert.equal(await contentOf(sut, await run(store.rawPathOf(id))), sha256(readFileSync(fx.rawDisk.path)))
      assert.equal(await sut.conversions(), 0)
    })

    test("collect removes exactly the images and conversions not kept", async () => {
      const kernel = await run(store.importFile(fx.kernel.path))
      const disk = await run(store.importFile(fx.qcow2.path))
      const packed = await run(store.importFile(fx.packed.path))
      await run(store.rawPathOf(disk.id))
      await run(store.rawPathOf(packed.id))
      const before = await sut.entries()
      assert.equal(await run(store.collect(new Set([kernel.id, disk.id]))), 2) // packed and its raw
      assert.deepEqual(await sut.entries(), before.filter((e) => !e.includes(packed.id)))
      assert.equal(await run(store.collect(new Set([kernel.id]))), 2)
      assert.deepEqual(await sut.entries(), before.filter((e) => e.includes(kernel.id)))
      for (const id of [disk.id, packed.id]) assert.equal((await failure(store.rawPathOf(id)))._tag, "ImageNotFound")
      assert.equal(await contentOf(sut, await run(store.pathOf(kernel.id))), sha256(readFileSync(fx.kernel.path)))
      assert.equal(await run(store.collect(new Set([kernel.id]))), 0)
      assert.equal(await run(store.collect(new Set())), 1)
      assert.deepEqual(await sut.entries(), [])
    })

    test("collect spares an image whose conversion is running", async () => {
      const { id } = await run(store.importFile(fx.qcow2.path))
      const release = await sut.holdConversions()
      let converting: Promise<string> | undefined
      try {
        converting = run(store.rawPathOf(id))
        for (let i = 0; i < 250 && (await sut.conversions()) === 0; i++) await new Promise((r) => setTimeout(r, 20))
        assert.equal(await sut.conversions(), 1, "the conversion started")
        assert.equal(await run(store.collect(new Set())), 0)
        assert.ok((await sut.entries()).includes(`images/${id}`))
      } finally {
        await release()
      }
      assert.equal(await contentOf(sut, await converting!), fx.expectedRaw)
      assert.equal(await run(store.collect(new Set())), 2)
    })
  })
