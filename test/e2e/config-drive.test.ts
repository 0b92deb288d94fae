// Config drives through the API onto simulated machines' disks (real genisoimage, blkid, isoinfo,
// sfdisk): the JSON form built into a config-2 ISO in its own partition before root (partition
// image), Ironic's base64 gzipped form on rebuild, a whole-disk image's drive in a partition added at
// the disk's end (MBR and GPT), and the requests that are refused. The drive's content never reaches
// the log or the service's output.
import { execFileSync } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { readAt } from "../../src/adapters/sim/machine/disk.ts"
import { client, settleNode, startTestService, type TestService } from "../adapters/http-harness.ts"

const MiB = 1024 * 1024
const work = mkdtempSync(join(tmpdir(), "ironledger-configdrive-"))
const diskDir = join(work, "disks")
const hardware = simulatedHardware({ callbackDelayMs: 5, diskDir, diskBytesOf: () => 2048 * MiB })
let svc: TestService
let api: ReturnType<typeof client>
const settle = (name: string, wanted: string, since?: string) => settleNode(api, name, wanted, 20_000, since)
const said: string[] = []
const secret = `admin-pass-${randomBytes(8).toString("hex")}`

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } })
const imported = async (bytes: Uint8Array) => (await Effect.runPromise(hardware.sim.images.importBytes(bytes))).id

/** A small ext4 filesystem: a partition image. */
const ext4Image = () => {
  const path = join(work, `root-${randomUUID()}.ext4`)
  run("truncate", ["-s", "4M", path])
  run("mkfs.ext4", ["-q", "-F", "-L", "root", path])
  return new Uint8Array(readFileSync(path))
}

const available = async (name: string, instanceInfo: Record<string, unknown>) => {
  const node = (await api("POST", "/v1/nodes", { name, driver: "sim", properties: { local_gb: 2 }, instance_info: instanceInfo })).body
  assert.ok(node?.uuid, `enrolled ${name}`)
  const mac = `52:54:00:cd:${randomBytes(2).toString("hex").match(/../g)!.join(":")}`
  assert.equal((await api("POST", "/v1/ports", { node_uuid: node.uuid, address: mac })).status, 201)
  for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
    assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    await settle(name, state)
  }
  return node.uuid as string
}

/** The partitions of a disk file, from sfdisk. */
const partitionsOf = (disk: string): Array<{ start: number; size: number; type: string }> =>
  (JSON.parse(run("sfdisk", ["--json", disk])).partitiontable.partitions as Array<{ start: number; size: number; type: string }>)

/** blkid's view of a byte range of the disk, and a file from the ISO9660 in it (isoinfo, Rock Ridge names). */
const probe = (disk: string, start: number, size: number) => {
  const blkid = run("blkid", ["-p", "-o", "export", "--offset", String(start), "--size", String(size), disk])
  const part = join(work, `part-${randomUUID()}.iso`)
  writeFileSync(part, readAt(disk, start, size))
  const file = (path: string) => run("isoinfo", ["-R", "-i", part, "-x", path])
  return { blkid, file }
}

const packedIso = (files: Record<string, string>) => {
  const tree = join(work, `tree-${randomUUID()}`)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(tree, path, ".."), { recursive: true })
    writeFileSync(join(tree, path), content)
  }
  const iso = join(work, `${randomUUID()}.iso`)
  run("genisoimage", ["-o", iso, "-quiet", "-J", "-r", "-V", "config-2", tree])
  return gzipSync(readFileSync(iso)).toString("base64")
}

before(async () => {
  svc = await startTestService({ hardware, diskDir, log: (line) => said.push(line), say: (line) => said.push(line) })
  api = client(svc.url)
})
after(async () => {
  await svc?.close()
  rmSync(work, { recursive: true, force: true })
})

describe("config drive", () => {
  test("JSON form on a partition-image deploy: a config-2 ISO in the partition before root; Ironic's form on rebuild replaces it", async () => {
    const [root, kernel, ramdisk] = [await imported(ext4Image()), await imported(new TextEncoder().encode("kernel\n")), await imported(new TextEncoder().encode("ramdisk\n"))]
    const uuid = await available("cd-part", { image_source: root, kernel, ramdisk, root_gb: 1, swap_mb: 64 })
    const instance = randomUUID()
    const configdrive = {
      meta_data: { uuid: instance, hostname: "cd-part.example", admin_pass: secret, public_keys: { k: "ssh-ed25519 AAAA test" } },
      user_data: "#cloud-config\nruncmd: [echo hello]\n",
      network_data: { links: [], networks: [], services: [] },
    }
    assert.equal((await api("PUT", "/v1/nodes/cd-part/states/provision", { target: "active", configdrive })).status, 202)
    await settle("cd-part", "active")

    const disk = join(diskDir, `${uuid}.img`)
    const parts = partitionsOf(disk)
    assert.deepEqual(parts.map((p) => p.type), ["82", "83", "83"], "swap, config drive, root")
    const drive = parts[1]!
    assert.equal(drive.size * 512, MiB, "the partition is the drive's size in whole MiB, as Ironic sizes it")
    const seen = probe(disk, drive.start * 512, drive.size * 512)
    assert.match(seen.blkid, /^LABEL=config-2$/m)
    assert.match(seen.blkid, /^TYPE=iso9660$/m)
    const meta = JSON.parse(seen.file("/openstack/latest/meta_data.json"))
    assert.equal(meta.uuid, instance)
    assert.equal(meta.name, "cd-part", "meta_data's name defaults to the node's")
    assert.equal(seen.file("/openstack/latest/user_data"), configdrive.user_data)
    assert.deepEqual(JSON.parse(seen.file("/openstack/latest/network_data.json")), configdrive.network_data)
    // Root is still the last partition and holds the image.
    const rootPart = parts[2]!
    assert.match(run("blkid", ["-p", "-o", "export", "--offset", String(rootPart.start * 512), "--size", String(rootPart.size * 512), disk]), /^LABEL=root$/m)

    // The log keeps a reference and a hash only.
    const history = (await api("GET", "/v1/nodes/cd-part/history")).body.history as Array<Record<string, any>>
    const requested = history.find((e) => e.type === "DeployRequested")!
    assert.match(JSON.stringify(requested), /config drive sha256 [0-9a-f]{12}/)

    // Rebuild with Ironic's own form (base64 of a gzipped ISO).
    const rebuilt = randomUUID()
    const packed = packedIso({ "openstack/latest/meta_data.json": JSON.stringify({ uuid: rebuilt }) })
    const since = (await api("GET", "/v1/nodes/cd-part")).body.provision_updated_at
    assert.equal((await api("PUT", "/v1/nodes/cd-part/states/provision", { target: "rebuild", configdrive: packed })).status, 202)
    await settle("cd-part", "active", since)
    const again = partitionsOf(disk)[1]!
    assert.equal(JSON.parse(probe(disk, again.start * 512, again.size * 512).file("/openstack/latest/meta_data.json")).uuid, rebuilt)

    for (const where of [readFileSync(svc.db), Buffer.from(said.join("\n"))]) {
      assert.ok(!where.includes(secret), "the drive's content is neither in the log nor in the service's output")
      assert.ok(!where.includes(instance), "meta_data stays out of the log")
    }
  })

  test("whole-disk images: the drive goes into a partition over the disk's last 64 MiB, MBR or GPT", async () => {
    for (const label of ["dos", "gpt"] as const) {
      const img = join(work, `whole-${label}.img`)
      run("truncate", ["-s", "8M", img])
      execFileSync("sfdisk", ["-q", img], { input: `label: ${label}\nstart=2048, size=12288, type=${label === "dos" ? "83" : "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}\n` })
      const name = `cd-whole-${label}`
      const uuid = await available(name, { image_source: await imported(new Uint8Array(readFileSync(img))) })
      const instance = randomUUID()
      assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target: "active", configdrive: { meta_data: { uuid: instance } } })).status, 202)
      await settle(name, "active")
      const disk = join(diskDir, `${uuid}.img`)
      const parts = partitionsOf(disk)
      assert.equal(parts.length, 2, `${label}: the image's partition and the config drive's`)
      const drive = parts[1]!
      const diskBytes = 2048 * MiB
      assert.ok(drive.start * 512 >= diskBytes - 65 * MiB && (drive.start + drive.size) * 512 <= diskBytes, `${label}: the partition is at the disk's end`)
      assert.ok(drive.size * 512 >= 64 * MiB - 34 * 512, `${label}: 64 MiB`)
      const seen = probe(disk, drive.start * 512, drive.size * 512)
      assert.match(seen.blkid, /^LABEL=config-2$/m)
      assert.equal(JSON.parse(seen.file("/openstack/latest/meta_data.json")).uuid, instance)
      if (label === "gpt") assert.match(run("sfdisk", ["--verify", disk]), /No errors detected/, "both GPT headers and tables check out")
    }
  })

  test("bad config drives are refused with 400 before anything is recorded", async () => {
    const uuid = await available("cd-refused", { image_source: await imported(ext4Image()) })
    const bomb = gzipSync(Buffer.alloc(65 * MiB)).toString("base64")
    const notIso = gzipSync(Buffer.alloc(64 * 1024, 7)).toString("base64")
    const cases: Array<[unknown, RegExp, string?]> = [
      ["!!not base64!!", /neither valid base64 nor a JSON object/],
      [Buffer.from("plain text, not gzipped").toString("base64"), /must be gzipped/],
      ["https://example.invalid/cd.iso.gz", /URLs are not fetched/],
      [bomb, /larger than the limit of 64 MiB/],
      [notIso, /neither an ISO9660 nor a VFAT filesystem/],
      [{ meta_data: [] }, /configdrive.meta_data must be a JSON object/],
      [{ metadata: {} }, /unknown key\(s\) "metadata"/],
      [{ user_data: 5 }, /user_data must be a string/],
      [{ meta_data: {} }, /only valid when setting target provision state to active or rebuild/, "provide"],
    ]
    const before = (await api("GET", `/v1/nodes/${uuid}/history`)).body.history.length
    for (const [configdrive, message, target] of cases) {
      const a = await api("PUT", "/v1/nodes/cd-refused/states/provision", { target: target ?? "active", configdrive })
      assert.equal(a.status, 400, `${JSON.stringify(configdrive).slice(0, 60)}: ${a.text}`)
      assert.match(JSON.parse(a.body.error_message).faultstring, message)
    }
    assert.equal((await api("GET", `/v1/nodes/${uuid}/history`)).body.history.length, before)
  })
})
