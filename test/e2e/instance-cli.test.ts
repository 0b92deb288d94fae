// End to end, as Nova's driver uses ironledger: `ironledger serve` as a real process with
// simulated machines, and `ironledger instance ...` spawning three instances by flavor (one
// forced to a node), checking each landed on a node that matches, destroying them, and one
// instance's life across the two nodes it lived on. Two spawns bring a config drive (a directory,
// a user-data file): the node's simulated disk then holds config-2 with the instance's UUID.
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

import { configDriveOn, wholeDiskImage } from "./config-drive-on-disk.ts"
import { startServeProcess, type ServeProcess } from "../support/serve-process.ts"
import { client, settleNode } from "../adapters/http-harness.ts"

const root = resolve(import.meta.dirname, "../..")
const ironledger = join(root, "bin/ironledger")

let dir: string
let url: string
const api = (method: string, path: string, body?: unknown) => client(url)(method, path, body)
const settle = (name: string, state: string) => settleNode(api, name, state, 30_000)
let server: ServeProcess | undefined

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

const il = (...args: Array<string>): Promise<Run> =>
  new Promise((done) => {
    execFile(ironledger, [...args, "--url", url], { env: { ...process.env, HOME: dir }, timeout: 90_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 128, stdout, stderr }))
  })

const ok = (r: Run, what: string) => {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-instance-"))
  server = await startServeProcess(["--db", join(dir, "log.db"), "--state-dir", dir])
  url = server.url
})

after(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const machines = {
  "vm-small": { cpus: 2, memory_mb: 2048, local_gb: 20, cpu_arch: "x86_64" },
  "vm-mid": { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" },
  "vm-arm": { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "aarch64" },
  "vm-big": { cpus: 16, memory_mb: 65536, local_gb: 400, cpu_arch: "x86_64" },
} as const

test("spawn three instances by flavor, one forced to a node; destroy them; one instance's life across two nodes", { timeout: 240_000 }, async () => {
  // A partition table: a config drive goes into a partition added at the disk's end.
  const image = wholeDiskImage(join(dir, "user.img"))
  const drive = join(dir, "drive", "openstack", "latest")
  mkdirSync(drive, { recursive: true })
  // The CLI sets meta_data.uuid to the instance's, whatever the directory says.
  writeFileSync(join(drive, "meta_data.json"), JSON.stringify({ uuid: "not-the-instance", hostname: "mid" }))
  const userData = join(dir, "user-data.yaml")
  writeFileSync(userData, "#cloud-config\nhostname: arm\n")
  let mac = 0x10
  await Promise.all(Object.entries(machines).map(async ([name, properties]) => {
    const n = await api("POST", "/v1/nodes", { driver: "sim", name, properties, resource_class: "baremetal" })
    assert.equal(n.status, 201, JSON.stringify(n.body))
    assert.equal((await api("POST", "/v1/ports", { address: `52:54:00:ee:00:${(mac++).toString(16)}`, node_uuid: n.body.uuid })).status, 201)
    for (const [target, state] of [["manage", "manageable"], ["provide", "available"]] as const) {
      assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
      await settle(name, state)
    }
  }))
  const spawnOne = async (flavor: string, ...more: Array<string>) => {
    const out = ok(await il("instance", "spawn", "--flavor", flavor, "--image", `file://${image}`, "--wait", "60", "--json", ...more), `spawn ${flavor}`)
    return JSON.parse(out.stdout) as { instance_uuid: string; node_uuid: string }
  }
  // Spawned one after another: the scheduler picks among what is still free.
  const mid = await spawnOne("cpus=8,memory_mb=16384,local_gb=100,cpu_arch=x86_64", "--config-drive", join(dir, "drive"))
  const arm = await spawnOne("cpus=4,memory_mb=4096,local_gb=50,cpu_arch=aarch64", "--user-data", userData)
  const forced = await spawnOne("cpus=1,memory_mb=1024,local_gb=10", "--node", "vm-small")
  const landed = async (i: { node_uuid: string }) => (await api("GET", `/v1/nodes/${i.node_uuid}`)).body.name
  assert.ok(["vm-mid", "vm-big"].includes(await landed(mid)), `mid landed on ${await landed(mid)}`)
  assert.equal(await landed(arm), "vm-arm")
  assert.equal(await landed(forced), "vm-small")
  const onDisk = (i: { node_uuid: string }) => configDriveOn(join(dir, "log.db.disks", `${i.node_uuid}.img`), dir)
  const midDrive = onDisk(mid)
  assert.deepEqual([midDrive.meta["uuid"], midDrive.meta["hostname"]], [mid.instance_uuid, "mid"])
  const armDrive = onDisk(arm)
  assert.deepEqual([armDrive.meta["uuid"], armDrive.userData], [arm.instance_uuid, "#cloud-config\nhostname: arm\n"])
  // A flavor nothing free can take is refused with the scheduler's reason, and binds nothing.
  const none = await il("instance", "spawn", "--flavor", "cpus=64,memory_mb=1024,local_gb=10", "--image", `file://${image}`)
  assert.notEqual(none.code, 0)
  assert.match(none.stderr, /No available nodes match/)

  const listed = JSON.parse(ok(await il("instance", "list", "--json"), "instance list").stdout) as Array<{ instance_uuid: string }>
  assert.deepEqual(listed.map((i) => i.instance_uuid).sort(), [mid, arm, forced].map((i) => i.instance_uuid).sort())
  const shown = JSON.parse(ok(await il("instance", "show", arm.instance_uuid, "--json"), "instance show").stdout)
  assert.deepEqual([shown.power_state, shown.cpu_arch, shown.node], ["power on", "aarch64", "vm-arm"])
  const resources = JSON.parse(ok(await il("resources", "--json"), "resources").stdout) as Array<Record<string, unknown>>
  assert.deepEqual(resources.map((r) => [r["resource_class"], r["nodes"], r["free"]]), [["baremetal", 4, 1]])

  // The mid instance is destroyed and comes back, with its UUID, on the node left free.
  const first = await landed(mid)
  ok(await il("instance", "destroy", mid.instance_uuid, "--wait", "60"), "destroy")
  const second = first === "vm-mid" ? "vm-big" : "vm-mid"
  const again = await spawnOne("cpus=8,memory_mb=16384,local_gb=100", "--node", second, "--uuid", mid.instance_uuid)
  assert.equal(await landed(again), second)
  for (const i of [again, arm, forced]) ok(await il("instance", "destroy", i.instance_uuid, "--wait", "60"), "destroy")
  assert.deepEqual(JSON.parse(ok(await il("instance", "list", "--json"), "instance list").stdout), [])

  const life = JSON.parse(ok(await il("history", "--instance", mid.instance_uuid, "--json"), "history --instance").stdout) as Array<Record<string, string>>
  const nodes = [...new Set(life.map((e) => e["node_uuid"]))]
  assert.equal(nodes.length, 2, `the instance lived on ${nodes.length} nodes`)
  for (const type of ["AllocationAssigned", "DeployRequested", "DeployDone", "UndeployRequested", "TearDownDone"]) {
    assert.equal(life.filter((e) => e["type"] === type).length, 2, `${type} twice in ${life.map((e) => e["type"]).join(", ")}`)
  }
  assert.ok(life.every((e) => e["instance_uuid"] === mid.instance_uuid))
})
