// Image inspection before a deploy, against the real qemu-img: what passes and why each bad image
// is refused.
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { inspectImage, type ImageExpectations } from "../../src/adapters/images/inspect.ts"

const work = mkdtempSync(join(tmpdir(), "ironledger-inspect-"))
after(() => rmSync(work, { recursive: true, force: true }))
const MiB = 1024 * 1024
const qemuImg = (...args: string[]) => execFileSync("qemu-img", args, { stdio: ["ignore", "ignore", "pipe"] })
const at = (name: string) => join(work, name)

const refused = async (path: string, reason: RegExp, expect: ImageExpectations = {}) => {
  const r = await inspectImage(path, expect)
  assert.ok(E.isLeft(r), `${path} passed: ${JSON.stringify(r)}`)
  assert.match(r.left, reason)
}

test("raw and qcow2 images pass with their format and virtual size", async () => {
  qemuImg("create", "-f", "raw", at("disk.raw"), "2M")
  qemuImg("create", "-f", "qcow2", at("disk.qcow2"), "3M")
  assert.deepEqual(await inspectImage(at("disk.raw")), E.right({ format: "raw", virtualSizeBytes: 2 * MiB, fileBytes: 2 * MiB }))
  const q = await inspectImage(at("disk.qcow2"), { maxVirtualBytes: 3 * MiB, declaredFormat: "qcow2" })
  assert.ok(E.isRight(q) && q.right.format === "qcow2" && q.right.virtualSizeBytes === 3 * MiB)
})

test("junk, empty, foreign formats and relative or json: paths are refused", async () => {
  writeFileSync(at("junk"), "not an image\n")
  await refused(at("junk"), /whole 512-byte sectors; this one is 13 bytes/)
  writeFileSync(at("empty"), "")
  await refused(at("empty"), /is empty/)
  qemuImg("create", "-f", "vmdk", at("disk.vmdk"), "1M")
  await refused(at("disk.vmdk"), /format vmdk is not allowed/)
  await refused("disk.raw", /must be absolute/)
  await refused('json:{"file":{"driver":"file","filename":"/etc/shadow"}}', /must be absolute/)
  await refused(at("missing"), /is not a file/)
  await refused(at("disk.qcow2"), /format qcow2 is not allowed/, { allowedFormats: ["raw"] })
})

test("a qcow2 with a backing file or an external data file is refused", async () => {
  qemuImg("create", "-f", "raw", at("base.raw"), "1M")
  qemuImg("create", "-f", "qcow2", "-b", at("base.raw"), "-F", "raw", at("child.qcow2"))
  await refused(at("child.qcow2"), /backing file .*base\.raw/)
  qemuImg("create", "-f", "qcow2", "-o", `data_file=${at("data.raw")}`, at("external.qcow2"), "1M")
  await refused(at("external.qcow2"), /external data file/)
})

test("content must agree with the declared format, and the image must fit its target", async () => {
  await refused(at("disk.qcow2"), /declared raw but its content is qcow2/, { declaredFormat: "raw" })
  await refused(at("disk.qcow2"), /virtual size \(3145728 bytes\) does not fit its target \(2097152 bytes\)/, { maxVirtualBytes: 2 * MiB })
})

test("raw images are checked for what their kind starts with", async () => {
  await refused(at("disk.raw"), /starts with a partition table/, { kind: "whole-disk" })
  await refused(at("disk.raw"), /holds a filesystem/, { kind: "partition" })
  const mbr = Buffer.alloc(MiB)
  mbr.writeUInt16LE(0xaa55, 510)
  writeFileSync(at("whole.raw"), mbr)
  assert.ok(E.isRight(await inspectImage(at("whole.raw"), { kind: "whole-disk" })))
  execFileSync("truncate", ["-s", "4M", at("root.ext4")])
  execFileSync("mkfs.ext4", ["-q", "-F", at("root.ext4")])
  assert.ok(E.isRight(await inspectImage(at("root.ext4"), { kind: "partition" })))
})
