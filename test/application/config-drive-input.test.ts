// The config drive as a request carries it: Ironic's base64 gzipped image and the JSON form.
import { test } from "node:test"
import assert from "node:assert/strict"
import { gzipSync } from "node:zlib"
import * as E from "fp-ts/lib/Either.js"
import { decodePackedDrive, driveFilesystem, filesOfJsonDrive } from "../../src/application/config-drive.ts"

const isoLike = () => { const b = Buffer.alloc(40_000); b.write("CD001", 32769, "latin1"); return b }
const node = { nodeId: "0b6f4f61-1d1b-4b5e-9d1e-2f1f1b1f1b1f", name: "n1" } as never

test("Ironic's form: base64 of a gzipped ISO, unpacked and recognised; newlines in the base64 are fine", () => {
  const b64 = gzipSync(isoLike()).toString("base64").replace(/(.{76})/g, "$1\n")
  const drive = decodePackedDrive(b64)
  assert.ok(E.isRight(drive))
  assert.equal(driveFilesystem(drive.right), "iso9660")
})

test("the JSON form becomes openstack/latest files, meta_data's uuid and name defaulting to the node's", () => {
  const files = filesOfJsonDrive({ meta_data: { hostname: "h" }, user_data: { a: 1 }, vendor_data: { v: 2 } }, node)
  assert.ok(E.isRight(files))
  const byPath = Object.fromEntries(files.right.map((f) => [f.path, new TextDecoder().decode(f.content)]))
  assert.deepEqual(Object.keys(byPath), ["openstack/latest/meta_data.json", "openstack/latest/user_data", "openstack/latest/vendor_data2.json"])
  assert.deepEqual(JSON.parse(byPath["openstack/latest/meta_data.json"]!), { uuid: "0b6f4f61-1d1b-4b5e-9d1e-2f1f1b1f1b1f", name: "n1", hostname: "h" })
  assert.equal(byPath["openstack/latest/user_data"], '{"a":1}')
  const own = filesOfJsonDrive({ meta_data: { uuid: "mine" } }, node)
  assert.ok(E.isRight(own) && JSON.parse(new TextDecoder().decode(own.right[0]!.content)).uuid === "mine", "a given uuid wins")
})

test("refusals never quote the drive's content", () => {
  const secret = "hunter2-secret"
  for (const input of [`${secret}!!`, Buffer.from(secret).toString("base64"), gzipSync(Buffer.from(secret)).toString("base64")]) {
    const r = decodePackedDrive(input)
    assert.ok(E.isLeft(r))
    assert.ok(!r.left.includes(secret) && !r.left.includes(input), r.left)
  }
  const r = filesOfJsonDrive({ meta_data: secret } as never, node)
  assert.ok(E.isLeft(r) && !r.left.includes(secret))
})
