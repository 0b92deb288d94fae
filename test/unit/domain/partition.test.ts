// The partition layout of a partition-image deploy and the MBR that records it. The MBR is also
// read back by sfdisk (util-linux), the tool an operator would use to check a deployed disk.
import { describe, test } from "node:test"
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import { computeLayout, encodeMbr, GiB, MiB, rootPartition, type PartitionLayout, type PartitionRequest } from "../../../src/domain/index.ts"

const layoutOf = (req: PartitionRequest): PartitionLayout => {
  const layout = computeLayout(req)
  if (E.isLeft(layout)) assert.fail(layout.left)
  return layout.right
}

const refusal = (req: PartitionRequest): string => {
  const layout = computeLayout(req)
  if (E.isRight(layout)) assert.fail(`expected a refusal, got ${JSON.stringify(layout.right)}`)
  return layout.left
}

const full = { rootGb: 2, swapMb: 512, ephemeralGb: 1, diskBytes: 8 * GiB }

describe("the layout", () => {
  test("puts the first partition at 1 MiB, then ephemeral, swap, and root last", () => {
    assert.deepEqual(layoutOf(full).partitions, [
      { number: 1, role: "ephemeral", startBytes: MiB, sizeBytes: GiB, mbrType: 0x83 },
      { number: 2, role: "swap", startBytes: MiB + GiB, sizeBytes: 512 * MiB, mbrType: 0x82 },
      { number: 3, role: "root", startBytes: MiB + GiB + 512 * MiB, sizeBytes: 2 * GiB, mbrType: 0x83 },
    ])
  })

  test("leaves out what is not asked for: root alone is partition 1 at 1 MiB", () => {
    const layout = layoutOf({ rootGb: 1, swapMb: 0, ephemeralGb: 0, diskBytes: 2 * GiB })
    assert.deepEqual(layout.partitions, [{ number: 1, role: "root", startBytes: MiB, sizeBytes: GiB, mbrType: 0x83 }])
    assert.deepEqual(rootPartition(layout), layout.partitions[0])
    assert.deepEqual(layoutOf({ rootGb: 1, swapMb: 64, ephemeralGb: 0, diskBytes: 2 * GiB }).partitions.map((p) => p.role), ["swap", "root"])
  })

  test("fits a disk exactly its size, and refuses one a byte smaller, saying what it needs", () => {
    const needed = MiB + GiB + 512 * MiB + 2 * GiB
    assert.equal(layoutOf({ ...full, diskBytes: needed }).partitions.length, 3)
    assert.equal(refusal({ ...full, diskBytes: needed - 1 }),
      `the layout needs ${needed} bytes (root 2 GiB, swap 512 MiB, ephemeral 1 GiB after 1 MiB) but the disk has ${needed - 1}`)
  })

  test("refuses sizes that are not whole, a root under 1 GiB, and more than an MBR can address", () => {
    assert.match(refusal({ ...full, rootGb: 0 }), /root_gb must be a whole number >= 1/)
    assert.match(refusal({ ...full, swapMb: 1.5 }), /swap_mb/)
    assert.match(refusal({ ...full, ephemeralGb: -1 }), /ephemeral_gb/)
    assert.match(refusal({ ...full, diskBytes: Number.NaN }), /disk size/)
    assert.equal(refusal({ rootGb: 2048, swapMb: 0, ephemeralGb: 0, diskBytes: 4096 * GiB }), "the layout exceeds what an MBR can address (2 TiB)")
  })
})

describe("the MBR", () => {
  const layout = layoutOf(full)
  const mbr = encodeMbr(layout, 0x1234abcd)
  const view = new DataView(mbr.buffer, mbr.byteOffset, mbr.byteLength)
  const entry = (i: number) => 446 + i * 16

  test("is one 512-byte sector ending in the 0x55AA signature, boot code left zero", () => {
    assert.equal(mbr.length, 512)
    assert.deepEqual([mbr[510], mbr[511]], [0x55, 0xaa])
    assert.ok(mbr.subarray(0, 440).every((b) => b === 0))
  })

  test("holds the disk signature at byte 440, little-endian", () => {
    assert.deepEqual([...mbr.subarray(440, 444)], [0xcd, 0xab, 0x34, 0x12])
  })

  test("records each partition's type, start and size in sectors, little-endian", () => {
    layout.partitions.forEach((p, i) => {
      assert.equal(mbr[entry(i)], 0x00, "not bootable")
      assert.equal(mbr[entry(i) + 4], p.mbrType)
      assert.equal(view.getUint32(entry(i) + 8, true), p.startBytes / 512)
      assert.equal(view.getUint32(entry(i) + 12, true), p.sizeBytes / 512)
    })
    // 1 MiB = sector 2048 = 0x00000800: low byte first.
    assert.deepEqual([...mbr.subarray(entry(0) + 8, entry(0) + 12)], [0x00, 0x08, 0x00, 0x00])
    assert.deepEqual([mbr[entry(0) + 4], mbr[entry(1) + 4], mbr[entry(2) + 4]], [0x83, 0x82, 0x83])
    assert.ok(mbr.subarray(entry(3), 510).every((b) => b === 0), "the fourth entry stays empty")
  })

  test("is read back by sfdisk with the same partitions", () => {
    const dir = mkdtempSync(join(tmpdir(), "ironledger-mbr-"))
    let table
    try {
      const disk = join(dir, "disk.img")
      writeFileSync(disk, mbr)
      truncateSync(disk, full.diskBytes) // sparse: the MBR is all that is written
      table = JSON.parse(execFileSync("sfdisk", ["--json", disk], { encoding: "utf8", timeout: 10_000 })).partitiontable
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    assert.equal(table.label, "dos")
    assert.equal(table.id, "0x1234abcd")
    assert.deepEqual(
      table.partitions.map((p: { start: number; size: number; type: string }) => [p.start, p.size, p.type]),
      layout.partitions.map((p) => [p.startBytes / 512, p.sizeBytes / 512, p.mbrType.toString(16)]),
    )
  })
})
