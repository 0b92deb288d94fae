// Where config drives go on the disk: the partition-image layout's configdrive partition, and the
// partition a whole-disk image gets at the disk's end (MBR, and just below 2 TiB on bigger disks).
import { test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { addEndPartition, configDriveArea } from "../../../src/domain/config-drive-partition.ts"
import { addGptEndPartition, crc32 } from "../../../src/domain/config-drive-gpt.ts"
import { computeLayout, GiB, MiB, type PartitionLayout } from "../../../src/domain/index.ts"

const mbrWith = (entries: Array<[type: number, startSector: number, sectors: number]>) => {
  const mbr = new Uint8Array(512)
  const view = new DataView(mbr.buffer)
  entries.forEach(([type, start, size], i) => {
    mbr[446 + i * 16 + 4] = type
    view.setUint32(446 + i * 16 + 8, start, true)
    view.setUint32(446 + i * 16 + 12, size, true)
  })
  mbr[510] = 0x55; mbr[511] = 0xaa
  return mbr
}

test("a partition image's config drive sits after swap and before root, sized in whole MiB", () => {
  const layout = computeLayout({ rootGb: 1, swapMb: 64, ephemeralGb: 1, diskBytes: 4 * GiB, configDriveMb: 2 }) as E.Right<PartitionLayout>
  assert.deepEqual(layout.right.partitions.map((p) => [p.role, p.sizeBytes]), [["ephemeral", GiB], ["swap", 64 * MiB], ["configdrive", 2 * MiB], ["root", GiB]])
  assert.ok(E.isLeft(computeLayout({ rootGb: 1, swapMb: 0, ephemeralGb: 0, diskBytes: 4 * GiB, configDriveMb: 65 })), "over 64 MiB is refused")
})

test("a whole-disk image's config drive partition takes the disk's last 64 MiB in the first free MBR slot", () => {
  const disk = 10 * GiB
  const added = addEndPartition(mbrWith([[0x83, 2048, 2048 * 100]]), disk)
  assert.ok(E.isRight(added))
  assert.deepEqual(added.right.partition, { number: 2, startBytes: disk - 64 * MiB, sizeBytes: 64 * MiB })
  const view = new DataView(added.right.mbr.buffer)
  assert.equal(added.right.mbr[446 + 16 + 4], 0x83)
  assert.equal(view.getUint32(446 + 16 + 8, true) * 512, disk - 64 * MiB)
  assert.equal(added.right.mbr[446 + 4], 0x83, "the image's own partition is kept")
})

test("beyond 2 TiB the partition sits just below the MBR's limit, as Ironic places it", () => {
  const area = configDriveArea(3 * 1024 * GiB)
  assert.equal(area.endBytes, 2 * 1024 * GiB - MiB)
  assert.equal(area.startBytes, 2 * 1024 * GiB - 65 * MiB)
})

test("no table, four primaries, a partition in the area, or GPT: refused or handed to the GPT path", () => {
  const disk = 10 * GiB
  const reason = (mbr: Uint8Array) => { const r = addEndPartition(mbr, disk); return E.isLeft(r) ? r.left : null }
  assert.match(reason(new Uint8Array(512))!.reason, /no partition table/)
  assert.match(reason(mbrWith([[0x83, 2048, 10], [0x83, 4096, 10], [0x83, 8192, 10], [0x83, 16384, 10]]))!.reason, /already has 4 primary partitions/)
  assert.match(reason(mbrWith([[0x83, 2048, disk / 512 - 4096]]))!.reason, /inside the last 64 MiB/)
  assert.equal(reason(mbrWith([[0xee, 1, disk / 512 - 1]]))!.gpt, true)
})

test("the GPT edit moves the backup table to the disk's end and keeps every CRC right", () => {
  // A GPT for a 16 MiB image: header at LBA 1, entries at LBA 2, one partition.
  const imageLast = 16 * MiB / 512 - 1
  const head = new Uint8Array(34 * 512)
  head.set(mbrWith([[0xee, 1, imageLast]]))
  const h = new DataView(head.buffer, 512, 512)
  head.set(new TextEncoder().encode("EFI PART"), 512)
  h.setUint32(8, 0x10000, true); h.setUint32(12, 92, true)
  h.setBigUint64(24, 1n, true); h.setBigUint64(32, BigInt(imageLast), true)
  h.setBigUint64(40, 34n, true); h.setBigUint64(48, BigInt(imageLast - 33), true)
  h.setBigUint64(72, 2n, true); h.setUint32(80, 128, true); h.setUint32(84, 128, true)
  head.fill(0x11, 1024, 1040)
  new DataView(head.buffer, 1024).setBigUint64(32, 2048n, true)
  new DataView(head.buffer, 1024).setBigUint64(40, 4095n, true)
  const disk = 1 * GiB
  const edit = addGptEndPartition(head, disk, new Uint8Array(16).fill(0x22))
  assert.ok(E.isRight(edit))
  const last = disk / 512 - 1
  const [, primary, entries, backupEntries, backup] = edit.right.writes
  assert.equal(backup!.offset, last * 512)
  assert.equal(backupEntries!.offset, (last - 32) * 512)
  for (const header of [primary!.bytes, backup!.bytes]) {
    const v = new DataView(header.buffer)
    const copy = Uint8Array.from(header.subarray(0, 92)); new DataView(copy.buffer).setUint32(16, 0, true)
    assert.equal(v.getUint32(16, true), crc32(copy), "header CRC")
    assert.equal(v.getUint32(88, true), crc32(entries!.bytes), "entries CRC")
    assert.equal(Number(v.getBigUint64(48, true)), last - 33, "last usable LBA at the new end")
  }
  assert.deepEqual(edit.right.partition, { number: 2, startBytes: Math.floor((last - 33 + 1 - 131072) / 2048) * 2048 * 512, sizeBytes: (last - 33 + 1 - Math.floor((last - 33 + 1 - 131072) / 2048) * 2048) * 512 })
})
