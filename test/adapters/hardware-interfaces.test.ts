// The contract kit run against every power and management interface: ipmitool against a real
// ipmi_sim BMC, fake-hardware and sim; and `ironledger certify` as a vendor runs it, against ipmi_sim.
import { execFile } from "node:child_process"
import { randomBytes, randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { promisify } from "node:util"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { certify, checkNames, type Certified } from "../../src/application/hardware/certification.ts"
import type { ManagementInterface, PowerInterface } from "../../src/application/hardware/interfaces.ts"
import { fakeHardware } from "../../src/adapters/fake/index.ts"
import { ipmi } from "../../src/adapters/ipmi/hardware.ts"
import { freeUdpPort } from "../../src/adapters/sim/bmc/free-port.ts"
import { startBmc, type SimBmc } from "../../src/adapters/sim/bmc/launcher.ts"
import { makeSimHardware } from "../../src/adapters/sim/hardware.ts"
import { SecretsWithKey } from "../../src/adapters/system/secrets.ts"
import { initialState, type Uuid } from "../../src/domain/index.ts"
import type { Vendor } from "../../src/application/hardware/hardware-type.ts"
import { redfish } from "../../src/adapters/redfish/hardware.ts"
import { memoryMachine, selfSignedCertificate, startRedfishEmulator } from "../../src/adapters/sim/redfish/index.ts"

const run = promisify(execFile)
const PASSWORD = "cert-Pa55word"

const interfacesOf = (vendor: Vendor) => ({
  power: vendor.interfaces.find((i) => i.slot === "power") as PowerInterface,
  management: vendor.interfaces.find((i) => i.slot === "management") as ManagementInterface,
})

const certified = (c: Certified) =>
  Effect.runPromise(Effect.provide(certify(c, { allowPower: true }), SecretsWithKey(randomBytes(32))))

const contract = (name: string, setup: () => Promise<{ subject: Certified; hasSecret: boolean; close: () => Promise<void> }>) =>
  describe(`hardware interface contract: ${name}`, () => {
    let s: Awaited<ReturnType<typeof setup>>
    before(async () => { s = await setup() })
    after(async () => { await s?.close() })
    test("every check passes, power checks included; only checks that do not apply are skipped", { timeout: 120_000 }, async () => {
      const results = await certified(s.subject)
      assert.deepEqual(results.map((r) => r.check), checkNames)
      for (const r of results) {
        if (r.check === "refuses a wrong secret" && !s.hasSecret) assert.equal(r.outcome, "skip")
        else assert.equal(r.outcome, "pass", `${r.check}: ${r.detail}`)
      }
    })
    test("a node without what validate needs fails the first check", { skip: !name.startsWith("ipmitool") }, async () => {
      const results = await certified({ ...s.subject, node: { ...s.subject.node, driverInfo: {} } })
      assert.equal(results[0]!.outcome, "fail")
      assert.match(results[0]!.detail, /ipmi_address/)
    })
  })

const probe = (driver: string, driverInfo: Record<string, string> = {}) => ({ ...initialState(randomUUID() as Uuid), driver, driverInfo })

let bmc: SimBmc | undefined
let bmcDir = ""
const ipmiBmc = async () => {
  bmcDir = mkdtempSync(join(tmpdir(), "ironledger-cert-"))
  bmc = await startBmc({
    name: "cert", port: await freeUdpPort(), username: "admin", password: PASSWORD,
    stateDir: join(bmcDir, "bmc"), killWaitSec: 1,
  })
  return bmc
}

contract("ipmitool + ipmi_sim", async () => {
  const b = await ipmiBmc()
  return {
    subject: {
      ...interfacesOf(ipmi({ sessionTimeoutSec: 1, sessionRetries: 1, defaultMinCommandIntervalMs: 0, powerPollMs: 50 })),
      node: probe("ipmi", { ipmi_address: b.access.address, ipmi_port: String(b.access.port), ipmi_username: "admin", ipmi_password: Redacted.value(b.access.password) }),
    },
    hasSecret: true,
    close: async () => { await b.stop(); rmSync(bmcDir, { recursive: true, force: true }); bmc = undefined },
  }
})

contract("fake-hardware", async () => ({ subject: { ...interfacesOf(fakeHardware), node: probe("fake-hardware") }, hasSecret: false, close: async () => {} }))

contract("sim", async () => {
  const sim = makeSimHardware({ callbackDelayMs: 1, callBack: () => {} })
  return { subject: { ...interfacesOf(sim.vendor), node: probe("sim") }, hasSecret: false, close: async () => sim.close() }
})

contract("redfish + Redfish BMC emulator (TLS)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-cert-rf-"))
  const tls = await selfSignedCertificate("127.0.0.1")
  writeFileSync(join(dir, "ca.pem"), tls.cert)
  const emulator = await startRedfishEmulator({ machines: [memoryMachine("cert-1", randomUUID())], username: "admin", password: PASSWORD, tls })
  return {
    subject: {
      ...interfacesOf(redfish()),
      node: probe("redfish", { redfish_address: emulator.url, redfish_username: "admin", redfish_password: PASSWORD, redfish_verify_ca: join(dir, "ca.pem") }),
    },
    hasSecret: true,
    close: async () => { await emulator.close(); rmSync(dir, { recursive: true, force: true }) },
  }
})

describe("ironledger certify", () => {
  let b: SimBmc
  let dir: string
  before(async () => { b = await ipmiBmc(); dir = bmcDir })
  after(async () => { await b?.stop(); rmSync(dir, { recursive: true, force: true }) })

  const certifyCli = async (password: string, ...extra: string[]) => {
    const file = join(dir, "password")
    writeFileSync(file, `${password}\n`, { mode: 0o600 })
    return run(process.execPath, ["src/cli/main.ts", "certify", "--driver", "ipmi", "--bmc", b.access.address,
      "--port", String(b.access.port), "--username", "admin", "--password-file", file, ...extra], { timeout: 120_000 })
      .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }))
      .catch((e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }))
  }

  test("prints a pass/fail table of every check and exits 0 against a good BMC", { timeout: 120_000 }, async () => {
    const r = await certifyCli(PASSWORD, "--allow-power")
    assert.equal(r.code, 0, r.stderr + r.stdout)
    for (const name of checkNames) assert.match(r.stdout, new RegExp(`${name.replace(/[()]/g, "\\$&")}\\s+pass`))
  })

  test("without --allow-power the power checks are skipped; a wrong password fails with exit 1", { timeout: 120_000 }, async () => {
    const r = await certifyCli("not-the-password")
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stdout, /reads the power state\s+fail/)
    assert.match(r.stdout, /powers on\s+skip/)
    assert.match(r.stderr, /checks failed/)
  })
})
