// The redfish-virtual-media boot interface against the Redfish BMC emulator over verified TLS, as
// the conductor drives it: the node's boot ISO is built from a deploy kernel and ramdisk, published
// under an unguessable URL, inserted (the emulator fetches it as a BMC does), booted once from the
// virtual CD by a machine that reads its isolinux config the way ISOLINUX would; after the deploy
// it is ejected, no longer served and removed, and the node boots its disk. python3-sushy (Ironic's
// Redfish library) inserts and ejects media on the emulator too. And the plan: boot device cdrom
// once where the node's boot interface boots from virtual media.
import { execFile } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { redfishInterfaces } from "../../../src/adapters/redfish/hardware.ts"
import { selfSignedCertificate, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"
import { cdMachine } from "../../support/cd-machine.ts"
import { makeFsImageStore } from "../../../src/adapters/images/fs-image-store.ts"
import { SecretsWithKey } from "../../../src/adapters/system/secrets.ts"
import { plan, type PlanContext } from "../../../src/application/conductor/plan.ts"
import { initialState, type NodeState, type Uuid } from "../../../src/domain/index.ts"

const run = promisify(execFile)
const PASSWORD = "vm-Pa55word"
const go = <A>(e: Effect.Effect<A, unknown, any>) =>
  Effect.runPromise(Effect.provide(e, SecretsWithKey(randomBytes(32))) as Effect.Effect<A, unknown>)

describe("redfish-virtual-media against the Redfish BMC emulator", () => {
  let dir: string
  let ca: string
  let emulator: RedfishEmulator
  const m = cdMachine("vm-1")
  const dhcp: Array<ReadonlyArray<string>> = []
  let rf: ReturnType<typeof redfishInterfaces>
  const kernel = randomBytes(3000)
  const initrd = randomBytes(5000)
  const node = (): NodeState => ({
    ...initialState("0b6c9a1e-3f5d-4e8a-9c2b-7d1e5f3a9b40" as Uuid), driver: "redfish",
    driverInfo: {
      redfish_address: emulator.url, redfish_system_id: "/redfish/v1/Systems/vm-1", redfish_username: "admin",
      redfish_password: PASSWORD, redfish_verify_ca: ca,
    },
  })

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-vmedia-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    ca = join(dir, "ca.pem")
    writeFileSync(ca, tls.cert)
    writeFileSync(join(dir, "kernel"), kernel)
    writeFileSync(join(dir, "initrd"), initrd)
    emulator = await startRedfishEmulator({ machines: [m.machine], username: "admin", password: PASSWORD, tls, mediaDir: join(dir, "bmc-media") })
    rf = redfishInterfaces({
      virtualMedia: {
        stateDir: join(dir, "state"), images: await makeFsImageStore({ root: join(dir, "images") }), appendParams: "console=ttyS0",
        dhcp: { setBootMacs: (macs) => Effect.sync(() => { dhcp.push(macs) }) },
      },
    })
  })
  after(async () => {
    await rf?.virtualMedia?.close()
    await emulator?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test("deploy: ISO built, published under a token, inserted, booted once from the CD with the PXE config's command line; then ejected, withdrawn, removed", { timeout: 60_000 }, async () => {
    const vm = rf.virtualMedia!
    assert.equal(vm.name, "redfish-virtual-media")
    const n = node()
    const key = randomBytes(16).toString("hex")
    await go(vm.configurator.prepareDeploy({
      nodeId: n.nodeId, macs: ["52:54:00:aa:bb:01"], deployKernel: join(dir, "kernel"), deployRamdisk: join(dir, "initrd"),
      kernel: null, ramdisk: null, deployId: "d-1", deployKey: key, iscsiIqn: `iqn.2024-01.org.ironledger:${n.nodeId}`, apiUrl: "http://10.213.9.1:6385",
    }))
    const iso = join(dir, "state", "virtual-media", n.nodeId, "boot.iso")
    assert.equal(statSync(iso).mode & 0o777, 0o600, "the ISO holds the key: readable by the service only")
    assert.equal(statSync(join(dir, "state", "virtual-media", n.nodeId)).mode & 0o777, 0o700)
    assert.deepEqual(dhcp.at(-1), ["52:54:00:aa:bb:01"], "DHCP answers the node's MAC while its ISO is out")
    assert.equal(await go(vm.configurator.currentLabel(n.nodeId)), "deploy")

    await go(vm.media!.apply(n, "deploy"))
    const media = emulator.systems.get("vm-1")!.media
    assert.equal(media.inserted, true)
    const url = new URL(media.image!)
    assert.match(url.pathname, /^\/vmedia\/[0-9a-f]{64}\.iso$/, "an unguessable per-node URL")
    assert.deepEqual(readFileSync(m.iso()!), readFileSync(iso), "the BMC fetched the ISO and gave it to the machine as its CD")
    // Nothing else is served: no listing, no other token.
    for (const path of ["/", "/vmedia/", `/vmedia/${"0".repeat(64)}.iso`, `${url.pathname}/..`]) {
      assert.equal((await fetch(new URL(path, url.origin))).status, 404, path)
    }

    // The conductor's next steps: boot device cdrom once, power on.
    await go(rf.management.setBootDevice(n, "cdrom", false))
    assert.deepEqual({ ...emulator.systems.get("vm-1")!.boot }, { enabled: "Once", target: "Cd", mode: "UEFI" })
    await go(rf.power.powerOn(n))
    const first = m.booted.at(-1)!
    assert.equal(first.device, "cdrom")
    assert.deepEqual(first.kernel, kernel, "the ISO's kernel is the deploy kernel")
    assert.deepEqual(first.initrd, initrd, "the ISO's initrd is the deploy ramdisk")
    const args = first.args!
    assert.equal(args.get("deployment_key"), key)
    assert.equal(args.get("node_uuid"), n.nodeId)
    assert.equal(args.get("ironic_api_url"), "http://10.213.9.1:6385")
    assert.equal(args.get("iscsi_target_iqn"), `iqn.2024-01.org.ironledger:${n.nodeId}`)
    assert.equal(args.get("BOOTIF"), "01-52-54-00-aa-bb-01")
    assert.equal(args.get("console"), "ttyS0")
    // Once is used up by that boot: the machine boots its disk next.
    assert.deepEqual({ ...emulator.systems.get("vm-1")!.boot }, { enabled: "Disabled", target: "None", mode: "UEFI" })
    assert.equal(m.device(), "disk")

    // After the image is written: the boot label.
    await go(vm.configurator.switchToBoot(n.nodeId, null))
    await go(vm.media!.apply(n, "boot"))
    assert.equal(existsSync(iso), false, "the ISO (and the key in it) is removed after the deploy")
    assert.deepEqual(dhcp.at(-1), [])
    assert.equal(emulator.systems.get("vm-1")!.media.inserted, false)
    assert.equal(m.iso(), null, "the machine's CD is empty")
    assert.equal(existsSync(join(dir, "bmc-media", "vm-1.iso")), false)
    assert.deepEqual({ ...emulator.systems.get("vm-1")!.boot }, { enabled: "Continuous", target: "Hdd", mode: "UEFI" })
    assert.equal(await fetch(url).then((r) => r.status, () => "refused"), "refused", "the ISO is no longer served")
    assert.equal(await go(vm.configurator.currentLabel(n.nodeId)), "boot")
    await go(rf.power.reboot(n))
    assert.equal(m.booted.at(-1)!.device, "disk")

    // Clean-up leaves nothing; eject is idempotent.
    await go(vm.media!.apply(n, null))
    await go(vm.configurator.clean(n.nodeId, []))
    assert.equal(existsSync(join(dir, "state", "virtual-media", n.nodeId)), false)
    await go(rf.power.powerOff(n))
  })

  test("a partition image: after the deploy the instance's kernel boots from an ISO of its own, on its root partition, without the key", { timeout: 60_000 }, async () => {
    const vm = rf.virtualMedia!
    const n = node()
    const key = randomBytes(16).toString("hex")
    const rootUuid = randomUUID()
    writeFileSync(join(dir, "instance-kernel"), randomBytes(1000))
    writeFileSync(join(dir, "instance-initrd"), randomBytes(1000))
    await go(vm.configurator.prepareDeploy({
      nodeId: n.nodeId, macs: ["52:54:00:aa:bb:01"], deployKernel: join(dir, "kernel"), deployRamdisk: join(dir, "initrd"),
      kernel: join(dir, "instance-kernel"), ramdisk: join(dir, "instance-initrd"), deployId: "d-3", deployKey: key, iscsiIqn: "iqn.2024-01.org.ironledger:x", apiUrl: "http://127.0.0.1:6385",
    }))
    await go(vm.media!.apply(n, "deploy"))
    await go(vm.configurator.switchToBoot(n.nodeId, rootUuid))
    await go(vm.media!.apply(n, "boot"))
    assert.equal(existsSync(join(dir, "state", "virtual-media", n.nodeId, "boot.iso")), false, "the deploy ISO is gone")
    assert.deepEqual({ ...emulator.systems.get("vm-1")!.boot }, { enabled: "Continuous", target: "Cd", mode: "UEFI" })
    await go(rf.power.reboot(n))
    const booted = m.booted.at(-1)!
    assert.equal(booted.device, "cdrom")
    assert.equal(booted.args!.get("root"), `UUID=${rootUuid}`)
    assert.equal(booted.args!.has("deployment_key"), false)
    assert.deepEqual(booted.kernel, readFileSync(join(dir, "instance-kernel")))
    // Tear-down: ejected and removed.
    await go(vm.media!.apply(n, null))
    await go(vm.configurator.clean(n.nodeId, []))
    assert.equal(emulator.systems.get("vm-1")!.media.inserted, false)
    assert.equal(existsSync(join(dir, "state", "virtual-media", n.nodeId)), false)
    await go(rf.power.powerOff(n))
  })

  test("a node without deploy images is told what it lacks, and so is a rescue without them", async () => {
    const vm = rf.virtualMedia!
    assert.match(vm.validate!(node()) ?? "", /Missing are: deploy_kernel, deploy_ramdisk/)
    assert.equal(vm.validate!({ ...node(), driverInfo: { ...node().driverInfo, deploy_kernel: "k", deploy_ramdisk: "r" } }), null)
    const r = await go(Effect.result(vm.configurator.switchToRescue(node().nodeId, "k")))
    assert.equal(r._tag, "Failure", "a rescue ISO needs the deploy kernel and ramdisk")
    assert.match(String((r as { failure?: { message?: string } }).failure?.message), /needs the deploy kernel and ramdisk/)
    const bad = await go(Effect.result(vm.configurator.prepareDeploy({
      nodeId: node().nodeId, macs: [], deployKernel: join(dir, "kernel"), deployRamdisk: join(dir, "initrd"), kernel: null, ramdisk: null,
      deployId: "d-2", deployKey: "a b", iscsiIqn: "iqn.x:y", apiUrl: "http://127.0.0.1:1",
    })))
    assert.equal(bad._tag, "Failure", "a key that would end its kernel argument is refused")
  })

  test("python3-sushy inserts and ejects the virtual CD", { timeout: 60_000 }, async () => {
    const iso = randomBytes(2048)
    const files: Server = createServer((_req, res) => res.end(iso))
    await new Promise<void>((r) => files.listen(0, "127.0.0.1", r))
    const image = `http://127.0.0.1:${(files.address() as AddressInfo).port}/x.iso`
    const script = String.raw`
import json, sys, sushy
from sushy import auth
url, user, password, ca, image = sys.argv[1:6]
root = sushy.Sushy(url, auth=auth.SessionAuth(user, password), verify=ca)
manager = root.get_manager("/redfish/v1/Managers/vm-1")
cd = manager.virtual_media.get_member("/redfish/v1/Managers/vm-1/VirtualMedia/Cd")
out = {"types": sorted(getattr(t, "value", t) for t in cd.media_types)}
cd.insert_media(image, inserted=True, write_protected=True)
cd.refresh()
out["inserted"] = [cd.image, cd.inserted]
cd.eject_media()
cd.refresh()
out["ejected"] = [cd.image, cd.inserted]
print(json.dumps(out))
`
    const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env
    try {
      const { stdout } = await run("/usr/bin/python3", ["-c", script, emulator.url, "admin", PASSWORD, ca, image], { env, timeout: 60_000 })
      const out = JSON.parse(stdout.trim().split("\n").at(-1)!)
      assert.ok(out.types.some((t: string) => /^cd$/i.test(t)), `media types ${out.types}`)
      assert.deepEqual(out.inserted, [image, true])
      assert.deepEqual(out.ejected, [null, false])
    } finally {
      await new Promise<void>((r) => files.close(() => r()))
    }
  })
})

describe("plan: the ramdisk's boot device follows the boot interface", () => {
  const deploying = (): NodeState => ({
    ...initialState(randomUUID() as Uuid), driver: "redfish", provisionState: "deploying",
    deploy: { deployId: "d-1", iscsi: null } as unknown as NodeState["deploy"],
    operation: { id: "op-1", kind: "deploy", steps: [{ step: "op-1:deploy:pxe", outcome: "ok" }] } as unknown as NodeState["operation"],
  } as NodeState)
  const ctx = (device?: "pxe" | "cdrom"): PlanContext => ({
    now: Date.now(), callbackTimeoutMs: 60_000, mayStartDeploy: () => true, deployStyle: "ramdisk", automatedClean: false, cleanSteps: [],
    ...(device === undefined ? {} : { ramdiskBootDevice: device }),
  })
  test("cdrom once for virtual media, pxe persistent otherwise", () => {
    const s = deploying()
    const request = (p: ReturnType<typeof plan>) => (p.kind === "request" ? p.request : null)
    const first = request(plan(s, ctx("cdrom")))
    assert.ok(first !== null)
    if (first.type === "BootConfigRequested") return assert.fail("the deploy:pxe step is recorded as done in this state")
    assert.deepEqual(first.data, { step: "op-1:deploy:boot-device", device: "cdrom", persistent: false })
    assert.deepEqual(request(plan(s, ctx()))?.data, { step: "op-1:deploy:boot-device", device: "pxe", persistent: true })
  })
  test("a rescue's ramdisk boots the same way: cdrom once for virtual media (ADR 0145)", () => {
    const rescuing = {
      ...initialState(randomUUID() as Uuid), driver: "redfish", provisionState: "rescuing",
      cleaningRamdisk: { sealedKey: { $sealed: "x" }, target: null },
      operation: { id: "op-2", kind: "rescue", steps: [{ step: "op-2:rescue:pxe", outcome: "ok" }] },
    } as unknown as NodeState
    const at = (device?: "pxe" | "cdrom") => { const p = plan(rescuing, { ...ctx(device), rescueStyle: "agent" }); return p.kind === "request" ? p.request.data : null }
    assert.deepEqual(at("cdrom"), { step: "op-2:rescue:boot-device", device: "cdrom", persistent: false })
    assert.deepEqual(at(), { step: "op-2:rescue:boot-device", device: "pxe", persistent: true })
  })
})
