// A deploy whose image is junk, or a qcow2 naming a backing file, fails before the node is powered
// on or a byte is written: the image is inspected (qemu-img, format pinned) when the deploy's boot
// configuration is prepared. Simulated machines through the API.
import { execFileSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import { client, startTestService, type TestService } from "../adapters/http-harness.ts"

const work = mkdtempSync(join(tmpdir(), "ironledger-image-refused-"))
const diskDir = join(work, "disks")
const hardware = simulatedHardware({ callbackDelayMs: 5, diskDir, diskBytesOf: () => 2 * 1024 ** 3 })
let svc: TestService
let api: ReturnType<typeof client>
before(async () => {
  svc = await startTestService({ hardware, diskDir })
  api = client(svc.url)
})
after(async () => {
  await svc?.close()
  rmSync(work, { recursive: true, force: true })
})

const imported = async (bytes: Uint8Array) => (await Effect.runPromise(hardware.sim.images.importBytes(bytes))).id

const deployFails = async (name: string, imageSource: string) => {
  const node = (await api("POST", "/v1/nodes", { name, driver: "sim", properties: { local_gb: 2 }, instance_info: { image_source: imageSource } })).body
  await api("POST", "/v1/ports", { node_uuid: node.uuid, address: `52:54:00:ee:${randomBytes(2).toString("hex").match(/../g)!.join(":")}` })
  for (const target of ["manage", "provide", "active"]) {
    assert.equal((await api("PUT", `/v1/nodes/${name}/states/provision`, { target })).status, 202)
    for (let i = 0; ; i++) {
      const n = (await api("GET", `/v1/nodes/${name}`)).body
      if (n.target_provision_state === null) break
      assert.ok(i < 1000, `${name} settles after ${target}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const n = (await api("GET", `/v1/nodes/${name}`)).body
  assert.equal(n.provision_state, "deploy failed")
  const history = (await api("GET", `/v1/nodes/${name}/history`)).body.history as Array<{ type: string }>
  const deployAt = history.findIndex((e) => e.type === "DeployRequested")
  const afterDeploy = history.slice(deployAt).map((e) => e.type)
  assert.ok(!afterDeploy.includes("PowerOnRequested") && !afterDeploy.includes("ImageWriteRequested"), `no power-on, no write: ${afterDeploy.join(",")}`)
  return { lastError: String(n.last_error), disk: join(diskDir, `${node.uuid}.img`) }
}

test("a 13-byte junk image fails the deploy before power-on", async () => {
  const { lastError } = await deployFails("junk", await imported(new TextEncoder().encode("not an image\n")))
  assert.match(lastError, /raw image is whole 512-byte sectors; this one is 13 bytes/)
})

test("a qcow2 naming a backing file fails the deploy before power-on", async () => {
  const base = join(work, "base.raw")
  writeFileSync(base, Buffer.alloc(1024 * 1024))
  const backed = join(work, "backed.qcow2")
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", backed])
  // Named by path: the store imports it when the deploy resolves it, before anything is booted.
  const { lastError } = await deployFails("backed", backed)
  assert.match(lastError, /backing file/)
})
