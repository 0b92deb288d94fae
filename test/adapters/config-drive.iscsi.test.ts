// Config drives written over real iSCSI (tgtd, qemu-io through libiscsi): into the layout's
// partition for a partition image, into a partition added at the end of the disk for whole-disk
// images (MBR, and GPT with its backup table moved to the disk's end). Read back from the target's
// backing file with sfdisk, blkid and isoinfo.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { randomUUID } from "node:crypto"
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import { iscsiBlockWriter } from "../../src/adapters/iscsi/index.ts"
import { buildConfigDriveIso } from "../../src/adapters/configdrive/iso.ts"
import { TgtDaemon } from "../../src/adapters/sim/tgt/index.ts"
import { computeLayout, GiB, MiB } from "../../src/domain/partition.ts"
import { blkid, makeTestImages, readRange, sfdisk, sh, type TestImages } from "./block-writer.fixtures.ts"

let dir: string
let images: TestImages
let tgtd: TgtDaemon

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-configdrive-iscsi-"))
  mkdirSync(join(dir, "images"))
  images = makeTestImages(join(dir, "images"))
  tgtd = await TgtDaemon.start()
})
after(async () => {
  await tgtd?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const driveWith = async (uuid: string) =>
  Effect.runPromise(buildConfigDriveIso([{ path: "openstack/latest/meta_data.json", content: new TextEncoder().encode(JSON.stringify({ uuid })) }]))

const metaUuidAt = (disk: string, startSector: number, sectors: number) => {
  const range = { offset: startSector * 512, length: sectors * 512 }
  assert.equal(blkid(disk, "LABEL", range), "config-2")
  assert.equal(blkid(disk, "TYPE", range), "iso9660")
  const iso = join(dir, `${randomUUID()}.iso`)
  writeFileSync(iso, readRange(disk, range.offset, range.length))
  return JSON.parse(sh("isoinfo", ["-R", "-i", iso, "-x", "/openstack/latest/meta_data.json"])).uuid as string
}

test("a partition image's drive goes into its partition, before root", async () => {
  const backing = join(dir, "part.img")
  const lun = await tgtd.addTarget({ iqn: "iqn.2026-11.org.ironledger.test:cd-part", backingFile: backing, sizeBytes: 4 * GiB })
  const uuid = randomUUID()
  const drive = await driveWith(uuid)
  const layout = computeLayout({ rootGb: 1, swapMb: 64, ephemeralGb: 0, diskBytes: 4 * GiB, configDriveMb: Math.ceil(drive.length / MiB) })
  assert.ok(E.isRight(layout))
  const result = await Effect.runPromise(iscsiBlockWriter().writeImage({ target: lun.blockTarget, layout: layout.right, imagePath: images.rootA, preserveEphemeral: false, configDrive: drive }))
  assert.equal(result.rootUuid, images.rootAUuid)
  const parts = sfdisk(backing).partitions
  assert.deepEqual(parts.map((p) => p.type), ["82", "83", "83"])
  assert.equal(metaUuidAt(backing, parts[1]!.start, parts[1]!.size), uuid)
})

for (const [name, image] of [["MBR", "wholeMbr"], ["GPT", "wholeGpt"]] as const) {
  test(`a whole-disk ${name} image gets a partition over the disk's last 64 MiB holding the drive`, async () => {
    const backing = join(dir, `whole-${name}.img`)
    const lun = await tgtd.addTarget({ iqn: `iqn.2026-11.org.ironledger.test:cd-${name.toLowerCase()}`, backingFile: backing, sizeBytes: 4 * GiB })
    const uuid = randomUUID()
    await Effect.runPromise(iscsiBlockWriter().writeImage({ target: lun.blockTarget, layout: null, imagePath: images[image], preserveEphemeral: false, configDrive: await driveWith(uuid) }))
    const parts = sfdisk(backing).partitions
    assert.equal(parts.length, 2)
    const end = parts[1]!.start + parts[1]!.size
    assert.ok(end * 512 <= 4 * GiB && parts[1]!.start * 512 >= 4 * GiB - 65 * MiB, "at the disk's end")
    assert.equal(metaUuidAt(backing, parts[1]!.start, parts[1]!.size), uuid)
    if (name === "GPT") assert.match(sh("sfdisk", ["--verify", backing]), /No errors detected/)
  })
}
