// The byte-level functions the writers share, checked against what the real tools write and read:
// mkswap, qemu-img, mkfs.ext4, sfdisk, blkid, qemu-io.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import {
  detectImage, diskIdentifier, extFilesystemUuid, formatUuid, IMAGE_HEADER_BYTES, mbrMismatch, progressPercents, swapHeader,
} from "../../src/adapters/iscsi/disk-format.ts"
import { parseHexDump } from "../../src/adapters/iscsi/qemu-iscsi-disk.ts"
import { computeLayout, encodeMbr, GiB, MiB } from "../../src/domain/partition.ts"
import { blkid, readRange, sh, sparseFile, writeRange } from "./block-writer.fixtures.ts"

describe("disk formats", () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), "ironledger-formats-")) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const file = (name: string) => join(dir, name)
  const header = (path: string) => readRange(path, 0, IMAGE_HEADER_BYTES)
  const detect = (path: string) => detectImage(header(path), statSync(path).size)

  test("the swap header is the page mkswap writes", () => {
    const uuid = "0123abcd-4567-89ab-cdef-0123456789ab"
    const area = file("swap.img")
    sparseFile(area, 64 * MiB)
    sh("mkswap", ["-U", uuid, area])
    const uuidBytes = Buffer.from(uuid.replaceAll("-", ""), "hex")
    assert.deepEqual(Buffer.from(swapHeader(64 * MiB, uuidBytes)), readRange(area, 0, 4096))
    assert.equal(formatUuid(uuidBytes), uuid)
  })

  test("formats are told from content: qcow2 v2 and v3, raw, and foreign formats refused", () => {
    sh("qemu-img", ["create", "-q", "-f", "qcow2", file("v3.qcow2"), "3G"])
    sh("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "compat=0.10", file("v2.img"), "1G"])
    assert.deepEqual(detect(file("v3.qcow2")), { ok: true, format: "qcow2", virtualSizeBytes: 3 * GiB })
    assert.deepEqual(detect(file("v2.img")), { ok: true, format: "qcow2", virtualSizeBytes: GiB })
    sparseFile(file("disk.qcow2"), 5 * MiB)
    assert.deepEqual(detect(file("disk.qcow2")), { ok: true, format: "raw", virtualSizeBytes: 5 * MiB }, "a raw file named .qcow2 is raw")
    for (const format of ["vmdk", "vhdx", "vpc", "qed"]) {
      sh("qemu-img", ["create", "-q", "-f", format, file(`x.${format}`), "64M"])
      const found = detect(file(`x.${format}`))
      assert.ok(!found.ok && found.problem.includes(`${format} format`), `${format}: ${JSON.stringify(found)}`)
    }
    sh("qemu-img", ["create", "-q", "-f", "qcow2", "-o", `data_file=${file("external.data")}`, file("external.qcow2"), "64M"])
    const external = detect(file("external.qcow2"))
    assert.ok(!external.ok && /external file/.test(external.problem))
    sh("qemu-img", ["create", "-q", "-f", "qcow2", "-b", file("v2.img"), "-F", "qcow2", file("overlay.qcow2")])
    const overlay = detect(file("overlay.qcow2"))
    assert.ok(!overlay.ok && /backing file/.test(overlay.problem))
    sparseFile(file("empty.raw"), 0)
    assert.equal(detect(file("empty.raw")).ok, false)
  })

  test("the ext superblock UUID is the one blkid reads; other content has none", () => {
    for (const [type, name] of [["ext4", "a.ext4"], ["ext2", "b.ext2"]] as const) {
      sparseFile(file(name), 8 * MiB)
      sh(`mkfs.${type}`, ["-q", file(name)])
      assert.equal(extFilesystemUuid(readRange(file(name), 0, 2048)), blkid(file(name), "UUID"))
    }
    sparseFile(file("blank"), MiB)
    assert.equal(extFilesystemUuid(readRange(file("blank"), 0, 2048)), null)
  })

  test("the disk identifier is blkid's PTUUID for MBR and GPT, null without a table", () => {
    for (const label of ["dos", "gpt"]) {
      const disk = file(`${label}.img`)
      sparseFile(disk, 16 * MiB)
      sh("sfdisk", ["-q", disk], `label: ${label}\n,,L\n`)
      assert.equal(diskIdentifier(readRange(disk, 0, 1024)), blkid(disk, "PTUUID"))
    }
    assert.equal(diskIdentifier(new Uint8Array(1024)), null)
  })

  test("an MBR holds a layout by meaning: the project's own, sfdisk's, but not another layout", () => {
    const layout = computeLayout({ rootGb: 1, swapMb: 64, ephemeralGb: 1, diskBytes: 4 * GiB })
    const other = computeLayout({ rootGb: 2, swapMb: 64, ephemeralGb: 1, diskBytes: 4 * GiB })
    assert.ok(E.isRight(layout) && E.isRight(other))
    assert.equal(mbrMismatch(encodeMbr(layout.right, 0x1234), layout.right), null)
    const disk = file("sfdisk-layout.img")
    sparseFile(disk, 4 * GiB)
    const script = layout.right.partitions.map((p) => `start=${p.startBytes / 512}, size=${p.sizeBytes / 512}, type=${p.mbrType.toString(16)}`).join("\n")
    sh("sfdisk", ["-q", disk], `label: dos\n${script}\n`)
    assert.equal(mbrMismatch(readRange(disk, 0, 512), layout.right), null)
    assert.match(mbrMismatch(readRange(disk, 0, 512), other.right) ?? "", /partition 3 \(root\)/)
    assert.match(mbrMismatch(new Uint8Array(512), layout.right) ?? "", /no MBR/)
  })

  test("progress percentages and qemu-io hex dumps parse as the tools print them", () => {
    const src = file("progress.raw")
    sparseFile(src, 32 * MiB)
    writeRange(src, 5 * MiB, Buffer.alloc(MiB, 7))
    const out = sh("qemu-img", ["convert", "-p", "-f", "raw", "-O", "raw", src, file("progress.out")])
    const percents = progressPercents(out)
    assert.ok(percents.length >= 2 && percents[percents.length - 1] === 100, out)
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff))
    writeRange(src, 3 * MiB, bytes)
    const dump = sh("qemu-io", ["-r", "-f", "raw", "-c", `read -v ${3 * MiB} 4096`, src])
    assert.deepEqual(Buffer.from(parseHexDump(dump, { offset: 3 * MiB, length: 4096 })!), bytes)
    assert.equal(parseHexDump(dump, { offset: 3 * MiB, length: 8192 }), null, "a short dump is not taken for the whole range")
  })
})
