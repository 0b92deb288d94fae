// The Redfish BMC emulator checked by a client no one here wrote: Debian's python3-sushy (the
// library OpenStack Ironic's redfish driver uses) reads systems, resets, sets the boot override
// and reads and changes BIOS against it over verified TLS, with session and with basic auth.
import { execFile } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { promisify } from "node:util"
import { memoryMachine, selfSignedCertificate, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"

const run = promisify(execFile)
// requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the CA a client was given: drop them.
const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...env } = process.env

// Runs under Debian's python3; prints one JSON line of what sushy saw.
const script = String.raw`
import json, sys, sushy
from sushy import auth
url, user, password, ca, mode = sys.argv[1:6]
v = lambda x: getattr(x, "value", x)
a = auth.BasicAuth(user, password) if mode == "basic" else auth.SessionAuth(user, password)
root = sushy.Sushy(url, auth=a, verify=ca)
out = {}
systems = root.get_system_collection()
out["members"] = sorted(systems.members_identities)
s = systems.get_member(out["members"][0])
out["uuid"] = s.uuid
out["power_before"] = v(s.power_state)
out["reset_types"] = sorted(v(t) for t in s.get_allowed_reset_system_values())
s.reset_system(sushy.RESET_ON)
s.refresh()
out["power_on"] = v(s.power_state)
s.set_system_boot_options(sushy.BOOT_SOURCE_TARGET_PXE, enabled=sushy.BOOT_SOURCE_ENABLED_CONTINUOUS, mode=sushy.BOOT_SOURCE_MODE_UEFI)
s.refresh()
out["boot"] = [v(s.boot.target), v(s.boot.enabled), v(s.boot.mode)]
out["boot_targets"] = sorted(v(t) for t in s.get_allowed_system_boot_source_values())
bios = s.bios
out["bios"] = dict(bios.attributes)
bios.set_attributes({"ProcTurboMode": "Disabled"})
bios.refresh()
out["bios_pending"] = dict(bios.pending_attributes)
out["bios_after_set"] = bios.attributes["ProcTurboMode"]
s.reset_system(sushy.RESET_FORCE_RESTART)
bios.refresh()
out["bios_after_reboot"] = bios.attributes["ProcTurboMode"]
s.reset_system(sushy.RESET_FORCE_OFF)
s.refresh()
out["power_off"] = v(s.power_state)
try:
    sushy.Sushy(url, auth=auth.BasicAuth(user, "wrong"), verify=ca).get_system_collection()
    out["wrong_password"] = "accepted"
except sushy.exceptions.AccessError as e:
    out["wrong_password"] = "refused"
print(json.dumps(out))
`

describe("Redfish BMC emulator against python3-sushy", () => {
  let dir: string
  let emulator: RedfishEmulator
  let ca: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-sushy-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    ca = join(dir, "ca.pem")
    writeFileSync(ca, tls.cert)
    emulator = await startRedfishEmulator({
      machines: [memoryMachine("node-1", randomUUID()), memoryMachine("node-2", randomUUID())],
      username: "admin", password: "redfish-Pa55", tls,
    })
  })
  after(async () => { await emulator?.close(); rmSync(dir, { recursive: true, force: true }) })

  const sushy = async (mode: "session" | "basic") => {
    const r = await run("/usr/bin/python3", ["-c", script, emulator.url, "admin", "redfish-Pa55", ca, mode], { timeout: 60_000, env })
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>
  }

  for (const mode of ["session", "basic"] as const) {
    test(`sushy (${mode} auth) reads systems, resets, sets boot override, reads and sets BIOS`, { timeout: 90_000 }, async () => {
      const seen = await sushy(mode)
      assert.deepEqual(seen["members"], ["/redfish/v1/Systems/node-1", "/redfish/v1/Systems/node-2"])
      assert.equal(seen["uuid"], emulator.systems.get("node-1")!.machine.uuid)
      assert.equal(seen["power_before"], "Off")
      assert.equal(seen["power_on"], "On")
      assert.deepEqual(seen["boot"], ["Pxe", "Continuous", "UEFI"])
      assert.ok((seen["boot_targets"] as string[]).includes("Cd"))
      assert.equal((seen["bios"] as Record<string, unknown>)["ProcTurboMode"], "Enabled")
      assert.deepEqual(seen["bios_pending"], { ProcTurboMode: "Disabled" })
      assert.equal(seen["bios_after_set"], "Enabled", "pending settings wait for a reboot")
      assert.equal(seen["bios_after_reboot"], "Disabled")
      assert.equal(seen["power_off"], "Off")
      assert.equal(seen["wrong_password"], "refused")
      // Back to factory BIOS for the next run.
      emulator.systems.get("node-1")!.bios["ProcTurboMode"] = "Enabled"
    })
  }

  test("refuses TLS to a client that does not trust its certificate", { timeout: 60_000 }, async () => {
    const r = await run("/usr/bin/python3", ["-c", "import sys, sushy; sushy.Sushy(sys.argv[1], username='admin', password='redfish-Pa55')", emulator.url], { timeout: 60_000, env })
      .then(() => "connected", (e: { stderr: string }) => e.stderr)
    assert.match(r, /CERTIFICATE_VERIFY_FAILED|SSLError|certificate verify failed/i)
  })
})
