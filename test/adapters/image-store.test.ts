// Runs the ImageStore contract against the filesystem store (real files, real qemu-img) and the
// in-memory simulator, then the filesystem store's own verification-cache and raw-cache rules.
import { execFileSync } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs"
import { open as openFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { FsImageStore, makeFsImageStore, type FsImageStoreConfig } from "../../src/adapters/images/fs-image-store.ts"
import { makeSimImages, SimImageStore } from "../../src/adapters/sim/images.ts"
import { imageStoreContract, type ImageStoreUnderTest } from "./image-store.contract.ts"

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Flips one byte in place: same size, same inode, as bit rot or a stray write would. */
const flipByte = async (path: string) => {
  const file = await openFile(path, "r+")
  try {
    const at = Math.floor((await file.stat()).size / 2)
    const byte = Buffer.alloc(1)
    await file.read(byte, 0, 1, at)
    byte[0]! ^= 0xff
    await file.write(byte, 0, 1, at)
  } finally {
    await file.close()
  }
}

/** A scratch root plus a qemu-img wrapper that logs each run and can hold conversions at a gate. */
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-images-"))
  const log = join(dir, "qemu-img.log")
  const gate = join(dir, "gate")
  const wrapper = join(dir, "qemu-img")
  writeFileSync(wrapper, [
    "#!/bin/sh",
    `echo "$1" >> '${log}'`,
    `if [ "$1" = convert ]; then n=0; while [ -e '${gate}' ] && [ $n -lt 500 ]; do sleep 0.02; n=$((n+1)); done; fi`,
    `exec qemu-img "$@"`,
  ].join("\n") + "\n")
  chmodSync(wrapper, 0o755)
  const conversions = () => existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((l) => l === "convert").length : 0
  return { dir, root: join(dir, "store"), wrapper, gate, conversions }
}

const openFsStore = async (): Promise<ImageStoreUnderTest> => {
  const s = scratch()
  return {
    layer: FsImageStore({ root: s.root, qemuImg: s.wrapper }),
    bytesAt: async (path) => readFileSync(path),
    corrupt: (id) => flipByte(join(s.root, "images", id)),
    conversions: async () => s.conversions(),
    holdConversions: async () => { writeFileSync(s.gate, ""); return async () => rmSync(s.gate, { force: true }) },
    entries: async () => ["images", "raw", "tmp"].flatMap((d) => readdirSync(join(s.root, d)).map((n) => `${d}/${n}`)).sort(),
    close: async () => rmSync(s.dir, { recursive: true, force: true }),
  }
}

const openSimStore = async (): Promise<ImageStoreUnderTest> => {
  const sim = makeSimImages()
  return {
    layer: SimImageStore(sim),
    bytesAt: async (path) => {
      const bytes = sim.bytesAt(path)
      if (bytes === undefined) throw new Error(`no bytes behind ${path}`)
      return bytes
    },
    corrupt: async (id) => sim.corrupt(id),
    conversions: async () => sim.conversions(),
    holdConversions: async () => { const release = sim.holdConversions(); return async () => release() },
    entries: async () => [...sim.entries()].sort(),
    close: async () => {},
  }
}

imageStoreContract("filesystem (qemu-img)", openFsStore)
imageStoreContract("in-memory simulator", openSimStore)

describe("FsImageStore verification and raw cache", { timeout: 60_000 }, () => {
  let s: ReturnType<typeof scratch>
  let kernel: string
  let disk: string
  before(() => {
    s = scratch()
    kernel = join(s.dir, "kernel")
    writeFileSync(kernel, randomBytes(300_000))
    writeFileSync(join(s.dir, "disk.img"), randomBytes(2 << 20))
    disk = join(s.dir, "disk.qcow2")
    execFileSync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", join(s.dir, "disk.img"), disk], { timeout: 30_000 })
  })
  after(() => rmSync(s.dir, { recursive: true, force: true }))

  const open = async (config: Partial<FsImageStoreConfig> = {}) => {
    const root = mkdtempSync(join(s.dir, "root-"))
    const hashed: string[] = []
    const store = await makeFsImageStore({ root, qemuImg: s.wrapper, onFullHash: (p) => hashed.push(p), ...config })
    return { root, store, hashed }
  }

  test("a settled, unchanged image is hashed once; a change with its mtime put back is still caught", async () => {
    const { store, hashed } = await open({ racyWindowMs: 50 })
    const { id } = await Effect.runPromise(store.importFile(kernel))
    await new Promise((r) => setTimeout(r, 150)) // past the racy window
    const path = await Effect.runPromise(store.pathOf(id))
    await Effect.runPromise(store.pathOf(id))
    await Effect.runPromise(store.rawPathOf(id))
    assert.equal(hashed.length, 1)
    const stamps = join(s.dir, "stamps")
    execFileSync("touch", ["-r", path, stamps]) // keeps the exact (ns) times
    await flipByte(path)
    execFileSync("touch", ["-r", stamps, path]) // hides the write from mtime, not from ctime
    assert.equal(statSync(path, { bigint: true }).mtimeNs, statSync(stamps, { bigint: true }).mtimeNs)
    const e = await Effect.runPromise(Effect.flip(store.pathOf(id)))
    assert.equal(e._tag, "ImageCorrupt")
    assert.equal(hashed.length, 2)
  })

  test("a file changed within the racy window is not trusted from its stamps", async () => {
    const { store, hashed } = await open({ racyWindowMs: 60_000 })
    const { id } = await Effect.runPromise(store.importFile(kernel))
    await Effect.runPromise(store.pathOf(id))
    await Effect.runPromise(store.pathOf(id))
    assert.equal(hashed.length, 2)
  })

  test("a damaged or deleted raw conversion is redone from the verified source", async () => {
    const { store } = await open()
    const { id } = await Effect.runPromise(store.importFile(disk))
    execFileSync("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", disk, join(s.dir, "expected.raw")], { timeout: 30_000 })
    const expected = sha256(readFileSync(join(s.dir, "expected.raw")))
    const before = s.conversions()
    const raw = await Effect.runPromise(store.rawPathOf(id))
    await flipByte(raw)
    assert.equal(sha256(readFileSync(await Effect.runPromise(store.rawPathOf(id)))), expected)
    unlinkSync(raw)
    assert.equal(sha256(readFileSync(await Effect.runPromise(store.rawPathOf(id)))), expected)
    assert.equal(s.conversions() - before, 3)
  })

  test("lost metadata is derived again from the content", async () => {
    const { root, store } = await open()
    const info = await Effect.runPromise(store.importFile(disk))
    unlinkSync(join(root, "images", `${info.id}.json`))
    assert.deepEqual(await Effect.runPromise(store.info(info.id)), info)
    assert.ok(existsSync(join(root, "images", `${info.id}.json`)))
  })
})
