// Rescue through Redfish virtual media (ADR 0145), end to end over the service's HTTP API: a node
// whose boot interface is redfish-virtual-media, on a machine behind the Redfish BMC emulator (over
// verified TLS), is rescued. The conductor builds a rescue ISO (the deploy ramdisk in rescue mode,
// the rescue's own key), the emulator fetches it as a BMC does and the machine boots it once from
// its virtual CD; the machine's "ramdisk" reads its command line from the ISO's isolinux config,
// fetches the password's hash with the key over the API and reports ready. The password is in
// neither the ISO nor the command line. Unrescue ejects the CD, removes the ISO and boots the disk.
// The node's deploy interface is fake (an instant, imageless deploy) so that it is active without
// an iSCSI write; everything after that is what a real deploy's node goes through.
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { verify } from "unixcrypt"
import { notSupported, unsupportedSlots } from "../../../src/adapters/common/declared.ts"
import { fakeHardware } from "../../../src/adapters/fake/index.ts"
import { redfishInterfaces } from "../../../src/adapters/redfish/hardware.ts"
import { selfSignedCertificate, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"
import { cdMachine } from "../../support/cd-machine.ts"
import { simRescueOverHttp } from "../../../src/adapters/sim/rescue.ts"
import { makeFsImageStore } from "../../../src/adapters/images/fs-image-store.ts"
import type { Vendor } from "../../../src/application/hardware/hardware-type.ts"
import { client, settleNode, startTestService, type TestService } from "../http-harness.ts"

const BMC_PASSWORD = "vm-Pa55word"
const RESCUE_PASSWORD = "rescue-me-0145"
const MAC = "52:54:00:aa:01:45"

/** The machine's rescue-mode boot starts the simulated rescue ramdisk, over HTTP to the API URL with the key its command line carries, a little after the boot (as a kernel would). */
const rescued: Array<{ ok: boolean; hash: string | null }> = []
const startRescue = (args: ReadonlyMap<string, string>) => {
  if (args.get("rescue_mode") !== "1") return
  setTimeout(() => {
    let hash: string | null = null
    void simRescueOverHttp(args.get("ironic_api_url")!, args.get("node_uuid")!, args.get("deployment_key") ?? "", (h) => { hash = h })
      .then((ok) => rescued.push({ ok, hash }))
  }, 50)
}

describe("rescue through redfish-virtual-media, over the API", () => {
  let dir: string
  let emulator: RedfishEmulator
  let svc: TestService
  let call: ReturnType<typeof client>
  let rf: ReturnType<typeof redfishInterfaces>
  const m = cdMachine("vm-r", startRescue)
  const dhcp: Array<ReadonlyArray<string>> = []
  let ca: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-vmedia-rescue-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    ca = join(dir, "ca.pem")
    writeFileSync(ca, tls.cert)
    writeFileSync(join(dir, "kernel"), randomBytes(3000))
    writeFileSync(join(dir, "initrd"), randomBytes(5000))
    emulator = await startRedfishEmulator({ machines: [m.machine], username: "admin", password: BMC_PASSWORD, tls, mediaDir: join(dir, "bmc-media") })
    rf = redfishInterfaces({
      virtualMedia: {
        stateDir: join(dir, "state"), images: await makeFsImageStore({ root: join(dir, "images") }), appendParams: "console=ttyS0",
        dhcp: { setBootMacs: (macs) => Effect.sync(() => { dhcp.push(macs) }) },
      },
    })
    const vm = rf.virtualMedia!
    const deploy = fakeHardware.interfaces.find((i) => i.slot === "deploy")!
    // Redfish power, management and virtual media; the agent rescue; a fake (instant) deploy.
    const vendor: Vendor = {
      hardwareTypes: [{
        name: "redfish-instant",
        description: "Redfish with virtual media, deployed instantly (test only).",
        interfaces: { ...unsupportedSlots, power: ["redfish"], management: ["redfish"], boot: ["redfish-virtual-media"], deploy: ["fake"], rescue: ["agent", "no-rescue"] },
      }],
      interfaces: [rf.power, rf.management, vm, deploy],
    }
    svc = await startTestService({
      hardware: { vendors: [notSupported, vendor], connect: () => {}, close: () => vm.close() },
      conductor: { callbackTimeoutMs: 30_000 },
    })
    call = client(svc.url)
  })
  after(async () => {
    await svc?.close()
    await emulator?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test("rescue boots the rescue ISO once from the virtual CD, the password only over the API; unrescue ejects and boots the disk", { timeout: 60_000 }, async () => {
    const node = (await call("POST", "/v1/nodes", {
      driver: "redfish-instant", name: "vr-1",
      driver_info: {
        redfish_address: emulator.url, redfish_system_id: "/redfish/v1/Systems/vm-r", redfish_username: "admin",
        redfish_password: BMC_PASSWORD, redfish_verify_ca: ca, deploy_kernel: join(dir, "kernel"), deploy_ramdisk: join(dir, "initrd"),
      },
    })).body
    assert.equal(node.boot_interface, "redfish-virtual-media")
    assert.equal(node.rescue_interface, "agent")
    assert.equal((await call("POST", "/v1/ports", { node_uuid: node.uuid, address: MAC })).status, 201)
    for (const [target, state] of [["manage", "manageable"], ["provide", "available"], ["active", "active"]] as const) {
      assert.equal((await call("PUT", "/v1/nodes/vr-1/states/provision", { target })).status, 202)
      await settleNode(call, "vr-1", state)
    }

    assert.equal((await call("PUT", "/v1/nodes/vr-1/states/provision", { target: "rescue", rescue_password: RESCUE_PASSWORD })).status, 202)
    const rescuedNode = await settle(call, "vr-1", "rescue")
    assert.equal(rescuedNode.last_error, null)

    // The machine booted the rescue ISO from its CD, once.
    const boot = m.booted.find((b) => b.args?.get("rescue_mode") === "1")
    assert.ok(boot !== undefined, `no rescue boot: ${JSON.stringify(m.booted.map((b) => b.device))}`)
    assert.equal(boot.device, "cdrom")
    const args = boot.args!
    assert.equal(args.get("node_uuid"), node.uuid)
    assert.equal(args.get("ironic_api_url"), svc.url)
    assert.equal(args.get("BOOTIF"), `01-${MAC.replace(/:/g, "-")}`)
    assert.match(args.get("deployment_key") ?? "", /^\S{20,}$/, "the rescue's own key")
    assert.equal(args.has("deployment_id"), false, "no deploy's arguments")
    assert.equal(rescued.at(-1)?.ok, true, "the ramdisk's report was taken")
    const hash = rescued.at(-1)!.hash!
    assert.ok(verify(RESCUE_PASSWORD, hash), "the ramdisk got the password's hash over the API")
    assert.ok(!boot.iso!.includes(Buffer.from(RESCUE_PASSWORD)), "the password is not in the ISO")
    assert.ok(!boot.iso!.includes(Buffer.from(hash)), "nor its hash")
    assert.ok(!boot.cfg!.includes(RESCUE_PASSWORD))
    // Once was used up by that boot: a reboot in rescue would boot the disk.
    assert.deepEqual({ ...emulator.systems.get("vm-r")!.boot }, { enabled: "Disabled", target: "None", mode: "UEFI" })
    const rescueIso = join(dir, "state", "virtual-media", node.uuid, "rescue.iso")
    assert.equal(statSync(rescueIso).mode & 0o777, 0o600, "the ISO holds the rescue key: readable by the service only")
    assert.equal(emulator.systems.get("vm-r")!.media.inserted, true)
    assert.deepEqual(dhcp.at(-1), [MAC], "DHCP answers the node's MAC while its rescue ramdisk is out")

    const history = (await call("GET", "/v1/nodes/vr-1/history/detail")).body.history as Array<Record<string, any>>
    const from = history.map((e) => e["type"]).lastIndexOf("RescueRequested")
    const devices = history.slice(from).filter((e) => e["type"] === "BootDeviceRequested").map((e) => [e["data"].device, e["data"].persistent])
    assert.deepEqual(devices, [["cdrom", false]], "boot device cdrom once, as a deploy through virtual media")
    assert.ok(!JSON.stringify(history).includes(RESCUE_PASSWORD))

    // The key is spent: the ramdisk's calls answer nothing now.
    assert.equal((await call("POST", `/v1/nodes/${node.uuid}/vendor_passthru/rescue_password`, { key: args.get("deployment_key") })).status, 404)

    assert.equal((await call("PUT", "/v1/nodes/vr-1/states/provision", { target: "unrescue" })).status, 202)
    await settle(call, "vr-1", "active")
    assert.equal(existsSync(rescueIso), false, "the rescue ISO (and the key in it) is removed")
    assert.equal(emulator.systems.get("vm-r")!.media.inserted, false, "the CD is ejected")
    assert.equal(m.iso(), null)
    assert.deepEqual(readdirSync(join(dir, "bmc-media")), [], "the BMC's copy is gone")
    assert.deepEqual({ ...emulator.systems.get("vm-r")!.boot }, { enabled: "Continuous", target: "Hdd", mode: "UEFI" })
    assert.deepEqual(dhcp.at(-1), [])
    assert.equal(m.booted.at(-1)!.device, "disk", "the instance boots from its disk again")
  })
})

/** As settleNode, with room for the ISO build and a TLS round trip per step on a loaded machine. */
const settle = (api: ReturnType<typeof client>, name: string, state: string) => settleNode(api, name, state, 30_000)
