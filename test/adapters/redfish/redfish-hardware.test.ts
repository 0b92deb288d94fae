// The redfish hardware type against the Redfish BMC emulator over verified TLS: BIOS settings and
// firmware changed by the out-of-band steps the conductor's cleaning runs (each followed by the
// reboot it asks for), trust settings, auth types, system discovery and words for bad settings.
import { randomBytes, randomUUID } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type { StepSpec } from "../../../src/application/hardware/steps.ts"
import { redfishInterfaces } from "../../../src/adapters/redfish/hardware.ts"
import { checkInfo } from "../../../src/adapters/redfish/settings.ts"
import { memoryMachine, selfSignedCertificate, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"
import { SecretsWithKey } from "../../../src/adapters/system/secrets.ts"
import { initialState, type NodeState, type Uuid } from "../../../src/domain/index.ts"

const PASSWORD = "rf-Pa55word"
const go = <A>(e: Effect.Effect<A, { readonly message: string }, never> | Effect.Effect<A, { readonly message: string }, any>) =>
  Effect.runPromise(Effect.provide(e as Effect.Effect<A, { readonly message: string }, any>, SecretsWithKey(randomBytes(32))) as Effect.Effect<A, { readonly message: string }>)
const fails = async (e: Effect.Effect<unknown, { readonly message: string }, any>) => {
  const r = await go(Effect.result(e))
  assert.equal(r._tag, "Failure", "expected a failure")
  return (r as { failure: { message: string } }).failure.message
}

describe("redfish hardware type against the Redfish BMC emulator", () => {
  let dir: string
  let ca: string
  let emulator: RedfishEmulator
  let images: Server
  let imageUrl: string
  const rf = redfishInterfaces({ taskTimeoutMs: 10_000 })
  const node = (info: Record<string, unknown> = {}): NodeState => ({
    ...initialState(randomUUID() as Uuid), driver: "redfish",
    driverInfo: {
      redfish_address: emulator.url, redfish_system_id: "/redfish/v1/Systems/rf-1", redfish_username: "admin",
      redfish_password: PASSWORD, redfish_verify_ca: ca, ...info,
    },
  })
  const step = (slot: { steps?: ReadonlyArray<StepSpec> }, name: string) => {
    const s = slot.steps?.find((x) => x.name === name)
    assert.ok(s !== undefined && s.where === "out-of-band", `no out-of-band step ${name}`)
    return s as Extract<StepSpec, { where: "out-of-band" }>
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-hw-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    ca = join(dir, "ca.pem")
    writeFileSync(ca, tls.cert)
    emulator = await startRedfishEmulator({
      machines: [memoryMachine("rf-1", randomUUID()), memoryMachine("rf-2", randomUUID())], username: "admin", password: PASSWORD, tls,
    })
    // Where the BMC fetches firmware images from, as it would from the conductor's HTTP server.
    images = createServer((req, res) => {
      if (req.url === "/bios-2.1.0.bin") res.end("ironledger-firmware BIOS 2.1.0\n")
      else if (req.url === "/junk.bin") res.end("not firmware\n")
      else { res.statusCode = 404; res.end() }
    })
    await new Promise<void>((r) => images.listen(0, "127.0.0.1", r))
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`
  })
  after(async () => {
    await emulator?.close()
    await new Promise((r) => images?.close(r))
    rmSync(dir, { recursive: true, force: true })
  })

  test("bios.apply_configuration is pending until the reboot, then the settings read back", async () => {
    const n = node()
    const before = await go(rf.bios.settings(n))
    assert.equal(before.find((s) => s.name === "ProcTurboMode")?.value, "Enabled")
    const out = await go(step(rf.bios, "apply_configuration").run(n, { settings: [{ name: "ProcTurboMode", value: "Disabled" }, { name: "NumLock", value: "Off" }] }))
    assert.match(out.summary, /2 BIOS setting/)
    assert.equal((await go(rf.bios.settings(n))).find((s) => s.name === "ProcTurboMode")?.value, "Enabled", "applied before the reboot")
    await go(rf.power.reboot(n))
    const after = new Map((await go(rf.bios.settings(n))).map((s) => [s.name, s.value]))
    assert.equal(after.get("ProcTurboMode"), "Disabled")
    assert.equal(after.get("NumLock"), "Off")
  })

  test("bios.factory_reset brings the factory settings back after the reboot; bad settings are refused in words", async () => {
    const n = node()
    await go(step(rf.bios, "factory_reset").run(n, {}))
    await go(rf.power.reboot(n))
    assert.equal((await go(rf.bios.settings(n))).find((s) => s.name === "ProcTurboMode")?.value, "Enabled")
    assert.match(await fails(step(rf.bios, "apply_configuration").run(n, {})), /needs settings/)
    assert.match(await fails(step(rf.bios, "apply_configuration").run(n, { settings: [{ name: "NoSuchKnob", value: "x" }] })), /no attribute NoSuchKnob/)
  })

  test("firmware.update flashes through SimpleUpdate; the new version shows after the reboot", async () => {
    const n = node()
    assert.deepEqual(await go(rf.firmware.components(n)), [{ component: "bios", version: "1.0.0" }, { component: "bmc", version: "1.0.0" }])
    const out = await go(step(rf.firmware, "update").run(n, { settings: [{ component: "bios", url: `${imageUrl}/bios-2.1.0.bin` }] }))
    assert.match(out.summary, /1 firmware image/)
    assert.equal((await go(rf.firmware.components(n)))[0]!.version, "1.0.0", "running before the reboot")
    await go(rf.power.reboot(n))
    assert.equal((await go(rf.firmware.components(n)))[0]!.version, "2.1.0")
    assert.equal(emulator.systems.get("rf-2")!.firmware.get("BIOS")!.version, "1.0.0", "another system's BIOS was flashed")
    assert.match(await fails(step(rf.firmware, "update").run(n, { settings: [{ component: "bios", url: `${imageUrl}/junk.bin` }] })), /not a firmware image/)
    assert.match(await fails(step(rf.firmware, "update").run(n, { settings: [{ component: "gpu", url: `${imageUrl}/x` }] })), /component must be one of/)
  })

  test("TLS: the system's CAs do not trust the emulator; False skips verification, as driver_info asks", async () => {
    assert.match(await fails(rf.power.status(node({ redfish_verify_ca: "True" }))), /unreachable: .*(SELF_SIGNED|self.signed|certificate)/i)
    assert.ok(["power on", "power off"].includes(await go(rf.power.status(node({ redfish_verify_ca: "False" })))))
  })

  test("basic and session auth both work; a wrong password is refused either way", async () => {
    for (const auth of ["basic", "session", "auto"]) {
      assert.ok(["power on", "power off"].includes(await go(rf.power.status(node({ redfish_auth_type: auth })))), auth)
      assert.match(await fails(rf.power.status(node({ redfish_auth_type: auth, redfish_password: "wrong" }))), /401|refused/, auth)
    }
  })

  test("the system is found when the BMC has one; with two, driver_info must say which", async () => {
    assert.match(await fails(rf.power.status(node({ redfish_system_id: null }))), /redfish_system_id is needed: .* manages 2 systems/)
    const single = await startRedfishEmulator({ machines: [memoryMachine("only", randomUUID())], username: "admin", password: PASSWORD })
    try {
      assert.equal(await go(rf.power.status(node({ redfish_address: single.url, redfish_system_id: null, redfish_verify_ca: "True" }))), "power off")
    } finally { await single.close() }
  })

  test("boot device: once and persistent overrides reach the BMC", async () => {
    const n = node()
    await go(rf.management.setBootDevice(n, "pxe", false))
    assert.deepEqual({ ...emulator.systems.get("rf-1")!.boot }, { enabled: "Once", target: "Pxe", mode: "UEFI" })
    await go(rf.management.setBootDevice({ ...n, properties: { capabilities: "boot_mode:bios" } }, "disk", true))
    assert.deepEqual({ ...emulator.systems.get("rf-1")!.boot }, { enabled: "Continuous", target: "Hdd", mode: "Legacy" })
  })

  test("indicators (API 1.63): the system's IndicatorLED is led@system, read and set through the BMC", async () => {
    const n = node()
    const indicators = rf.management.indicators!
    assert.deepEqual(await go(indicators.list(n)), [{ component: "system", name: "led", readonly: false, states: ["off", "on", "blinking"] }])
    assert.equal(await go(indicators.get(n, "system", "led")), "off")
    await go(indicators.set(n, "system", "led", "blinking"))
    assert.equal(emulator.systems.get("rf-1")!.indicatorLed, "Blinking")
    assert.equal(await go(indicators.get(n, "system", "led")), "blinking")
    await go(indicators.set(n, "system", "led", "off"))
    assert.match(await fails(indicators.get(n, "chassis", "led")), /no indicator led@chassis/)
  })

  test("inject NMI: ResetType Nmi reaches the running machine; refused while it is off", async () => {
    const n = node()
    const machine = emulator.systems.get("rf-1")!.machine as ReturnType<typeof memoryMachine>
    await go(rf.power.powerOff(n))
    assert.match(await fails(rf.management.injectNmi!(n)), /Nmi/)
    await go(rf.power.powerOn(n))
    const before = machine.nmis()
    await go(rf.management.injectNmi!(n))
    assert.equal(machine.nmis(), before + 1)
    assert.equal(await go(rf.power.status(n)), "power on")
  })

  test("settings that cannot work are refused at enroll, in words", () => {
    assert.match(checkInfo({ redfish_address: "ftp://bmc" }) ?? "", /redfish_address must be/)
    assert.match(checkInfo({ redfish_address: "https://u:p@bmc" }) ?? "", /without credentials/)
    assert.match(checkInfo({ redfish_system_id: "Systems/1" }) ?? "", /redfish_system_id must be/)
    assert.match(checkInfo({ redfish_verify_ca: "maybe" }) ?? "", /redfish_verify_ca must be/)
    assert.match(checkInfo({ redfish_auth_type: "kerberos" }) ?? "", /redfish_auth_type must be/)
    assert.equal(checkInfo({ redfish_address: "bmc.example", redfish_verify_ca: "False" }), null)
  })
})

describe("ironledger certify --driver redfish against the emulator", () => {
  test("every check passes, power included; the machine is left as found", { timeout: 120_000 }, async () => {
    const { execFile } = await import("node:child_process")
    const dir = mkdtempSync(join(tmpdir(), "redfish-certify-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    writeFileSync(join(dir, "ca.pem"), tls.cert)
    writeFileSync(join(dir, "password"), `${PASSWORD}\n`, { mode: 0o600 })
    const emulator = await startRedfishEmulator({ machines: [memoryMachine("c-1", randomUUID())], username: "admin", password: PASSWORD, tls })
    try {
      const r = await new Promise<{ code: number; out: string }>((resolve) => execFile(process.execPath, [
        "src/cli/main.ts", "certify", "--driver", "redfish", "--bmc", emulator.url, "--username", "admin",
        "--password-file", join(dir, "password"), "--driver-info", `redfish_verify_ca=${join(dir, "ca.pem")}`, "--allow-power",
      ], { timeout: 120_000 }, (e, stdout, stderr) => resolve({ code: e === null ? 0 : Number(e.code ?? 1), out: stdout + stderr })))
      assert.equal(r.code, 0, r.out)
      assert.match(r.out, /refuses a wrong secret\s+pass/)
      assert.match(r.out, /powers off\s+pass/)
      assert.doesNotMatch(r.out, /\bfail\b/)
      assert.equal(await emulator.systems.get("c-1")!.machine.power(), "Off")
    } finally {
      await emulator.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
