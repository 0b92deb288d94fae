// The pieces of the ramdisk build, against real programs: the initramfs archive is byte-identical
// for the same tree whatever its time stamps and is unpacked faithfully by GNU cpio; the ELF reader
// finds exactly the libraries a Debian binary names; a build is registered in the image store as
// the default deploy images.
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { after, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { makeFsImageStore } from "../../src/adapters/images/fs-image-store.ts"
import type { BuiltRamdisk } from "../../src/adapters/ramdisk/build/build.ts"
import { cpioOf, gzipInitramfs } from "../../src/adapters/ramdisk/build/cpio.ts"
import { readDefaultDeployImages, registerRamdisk, writeDefaultDeployImages } from "../../src/adapters/ramdisk/build/register.ts"
import { moduleInfo, neededLibraries } from "../../src/adapters/ramdisk/build/elf.ts"

const work = mkdtempSync(join(tmpdir(), "ironledger-ramdisk-build-"))
after(() => rmSync(work, { recursive: true, force: true }))

const makeTree = (root: string, mtime: number) => {
  mkdirSync(join(root, "bin"), { recursive: true })
  mkdirSync(join(root, "etc/ironledger"), { recursive: true })
  writeFileSync(join(root, "init"), "#!/bin/sh\necho hello\n")
  chmodSync(join(root, "init"), 0o755)
  writeFileSync(join(root, "etc/ironledger/modules"), "kernel/a.ko\n")
  writeFileSync(join(root, "bin/odd"), Buffer.from([0, 1, 2]))
  symlinkSync("../init", join(root, "bin/sh"))
  for (const p of ["init", "etc/ironledger/modules", "bin/odd", "bin", "etc", "."]) utimesSync(join(root, p), mtime, mtime)
}

test("the same tree gives the same initramfs bytes whatever its time stamps", async () => {
  makeTree(join(work, "a"), 1_000_000)
  makeTree(join(work, "b"), 2_000_000_000)
  const a = gzipInitramfs(await cpioOf(join(work, "a")))
  const b = gzipInitramfs(await cpioOf(join(work, "b")))
  assert.ok(a.equals(b))
  // gzip header: no file name flag, time stamp zero.
  assert.equal(a[3]! & 0x08, 0)
  assert.equal(a.readUInt32LE(4), 0)
})

test("GNU cpio unpacks the archive: contents, modes and links", async () => {
  makeTree(join(work, "src"), 1_000_000)
  const archive = gunzipSync(gzipInitramfs(await cpioOf(join(work, "src"))))
  const out = join(work, "out")
  mkdirSync(out)
  const listing = execFileSync("cpio", ["-t", "--quiet"], { input: archive }).toString().trim().split("\n")
  assert.deepEqual(listing, ["bin", "bin/odd", "bin/sh", "etc", "etc/ironledger", "etc/ironledger/modules", "init"])
  execFileSync("cpio", ["-id", "--quiet", "--no-absolute-filenames"], { cwd: out, input: archive })
  assert.equal(readFileSync(join(out, "init"), "utf8"), "#!/bin/sh\necho hello\n")
  assert.equal(lstatSync(join(out, "init")).mode & 0o777, 0o755)
  assert.deepEqual([...readFileSync(join(out, "bin/odd"))], [0, 1, 2])
  assert.equal(readlinkSync(join(out, "bin/sh")), "../init")
})

test("DT_NEEDED of tgtd names its direct libraries only", async () => {
  const needed = await neededLibraries("/usr/sbin/tgtd")
  for (const lib of ["libaio.so.1", "libc.so.6", "libsystemd.so.0"]) assert.ok(needed.includes(lib), `${lib} in ${needed.join(", ")}`)
  assert.ok(!needed.includes("libgcrypt.so.20"), "libgcrypt comes through libsystemd, not from tgtd itself")
  await assert.rejects(neededLibraries(join(work, "a/init")), /not an ELF file/)
})

test("an ELF file without .modinfo has no module information; a non-ELF file is refused", async () => {
  assert.deepEqual(await moduleInfo("/usr/sbin/tgtd"), [])
  await assert.rejects(moduleInfo(join(work, "a/init")), /not a 64-bit ELF module/)
})

test("a built ramdisk is imported into the image store and recorded as the default deploy images", async () => {
  const store = await makeFsImageStore({ root: join(work, "store") })
  const kernel = join(work, "vmlinuz"), initramfs = join(work, "initramfs.gz")
  writeFileSync(kernel, Buffer.alloc(4096, 1))
  makeTree(join(work, "reg"), 1)
  writeFileSync(initramfs, gzipInitramfs(await cpioOf(join(work, "reg"))))
  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex")
  const addon = join(work, "ipmi-addon.gz")
  writeFileSync(addon, gzipInitramfs(await cpioOf(join(work, "reg"))).subarray(0, 100))
  const built: BuiltRamdisk = {
    kernel, initramfs, kernelSha256: sha(kernel), initramfsSha256: sha(initramfs), kernelBytes: 4096, initramfsBytes: 0,
    kernelVersion: "test", buildId: "b".repeat(64), cached: false, packages: [],
    ipmiAddon: addon, ipmiAddonSha256: sha(addon), ipmiAddonBytes: 100,
  }
  assert.equal(await readDefaultDeployImages(join(work, "store")), null)
  const ids = await Effect.runPromise(registerRamdisk(store, built))
  assert.deepEqual(ids, { kernel: sha(kernel), ramdisk: sha(initramfs), ipmiAddon: sha(addon) })
  await writeDefaultDeployImages(join(work, "store"), ids)
  assert.deepEqual(await readDefaultDeployImages(join(work, "store")), ids)
  assert.equal(await Effect.runPromise(store.pathOf(ids.ramdisk)).then((p) => sha(p)), ids.ramdisk)
  // A file that does not hash as the build said is refused, not registered.
  const exit = await Effect.runPromiseExit(registerRamdisk(store, { ...built, kernelSha256: "0".repeat(64) }))
  assert.ok(Exit.isFailure(exit))
  writeFileSync(join(work, "store", "deploy-images.json"), "{\"kernel\": \"nope\"}")
  assert.equal(await readDefaultDeployImages(join(work, "store")), null)
})
