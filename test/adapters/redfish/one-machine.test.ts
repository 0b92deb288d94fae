// One machine behind two BMC front ends: a real ipmi_sim whose chassis control program (the VM
// rack's own, src/adapters/vm/chassis-control.ts) starts and stops the machine, and the Redfish
// emulator driving the same program. Power set through one is what the other reads, the boot
// device one sets is the one the next start uses, and there is only ever one machine process.
// The machine process is a stand-in for QEMU (the program's `qemu` setting): what is under test is
// that both front ends share one launcher, not QEMU's boot (the VM tests cover that).
import { spawn, type ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { makeIpmitoolPowerDriver } from "../../../src/adapters/ipmi/ipmitool-power-driver.ts"
import { bmcEmu } from "../../../src/adapters/sim/bmc/config-files.ts"
import { freeUdpPort } from "../../../src/adapters/sim/bmc/free-port.ts"
import { bmcAccess, chassisControlMachine, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"
import { vmLanConf } from "../../../src/adapters/vm/bmc-files.ts"
import { chassisControlScript } from "../../../src/adapters/vm/chassis-control.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("one machine behind ipmi_sim and the Redfish emulator", () => {
  let dir: string
  let ipmiSim: ChildProcess | undefined
  let emulator: RedfishEmulator
  let bmc: ReturnType<typeof bmcAccess>
  const ipmitool = makeIpmitoolPowerDriver({ defaultMinCommandIntervalMs: 0, powerPollMs: 100 })
  const ipmi = <A>(e: Effect.Effect<A, { readonly message: string }>) => Effect.runPromise(e)
  const redfish = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${emulator.url}${path}`, {
      method, headers: { authorization: `Basic ${Buffer.from("admin:rf-pw").toString("base64")}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${await r.clone().text()}`)
    return r.status === 204 ? null : await r.json() as Record<string, unknown>
  }
  const redfishPower = async () => (await redfish("GET", "/redfish/v1/Systems/vm-1"))!["PowerState"]
  const starts = () => readFileSync(join(dir, "power.log"), "utf8").split("\n").filter((l) => / start /.test(l))
  const machinePid = () => { try { return Number(readFileSync(join(dir, "vm.pid"), "utf8")) } catch { return null } }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-one-machine-"))
    // Stand-in for qemu-system-x86_64 -daemonize: one process per start, its pid in -pidfile.
    const fakeQemu = join(dir, "machine")
    writeFileSync(fakeQemu, `#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in -pidfile) P=$2;; esac; shift; done\nsetsid sleep 300 </dev/null >/dev/null 2>&1 &\necho $! > "$P"\n`, { mode: 0o700 })
    const port = await freeUdpPort()
    const control = join(dir, "chassis-control")
    writeFileSync(control, chassisControlScript({
      name: "vm-1", memoryMb: 256, disk: join(dir, "disk.img"), tap: "none", mac: "52:54:00:00:00:01", serialLog: join(dir, "serial.log"),
      bmcPort: port + 1, pidFile: join(dir, "vm.pid"), qmpSocket: join(dir, "qmp.sock"), firmware: { kind: "bios" }, qemu: fakeQemu,
    }, { bootFile: join(dir, "boot-device"), powerLog: join(dir, "power.log") }), { mode: 0o700 })
    writeFileSync(join(dir, "power.log"), "")
    writeFileSync(join(dir, "lan.conf"), vmLanConf({ name: "vm1", port, vmPort: port + 1, username: "admin", password: "ipmi-pw", chassisControl: control }))
    writeFileSync(join(dir, "bmc.emu"), bmcEmu)
    mkdirSync(join(dir, "state"))
    ipmiSim = spawn("ipmi_sim", ["-c", join(dir, "lan.conf"), "-f", join(dir, "bmc.emu"), "-s", join(dir, "state"), "-n"], { detached: true, stdio: "ignore" })
    bmc = bmcAccess("127.0.0.1", port, "admin", "ipmi-pw")
    for (let i = 0; ; i++) {
      const r = await Effect.runPromise(Effect.result(ipmitool.status(bmc)))
      if (r._tag === "Success") break
      if (i > 50) throw new Error(`ipmi_sim did not answer: ${r.failure.message}`)
      await sleep(200)
    }
    emulator = await startRedfishEmulator({ machines: [chassisControlMachine(control, "vm-1", randomUUID())], username: "admin", password: "rf-pw" })
  })
  after(async () => {
    await emulator?.close()
    const pid = machinePid()
    if (pid !== null) try { process.kill(pid, "SIGKILL") } catch { /* gone */ }
    if (ipmiSim?.pid !== undefined) try { process.kill(-ipmiSim.pid, "SIGKILL") } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true })
  })

  test("power and boot device set through either front end are the other's; one machine process", { timeout: 120_000 }, async () => {
    assert.equal(await redfishPower(), "Off")
    // Redfish boot override, then power on through IPMI: the start uses the override's device.
    await redfish("PATCH", "/redfish/v1/Systems/vm-1", { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Continuous" } })
    await ipmi(ipmitool.powerOn(bmc))
    assert.equal(await ipmi(ipmitool.status(bmc)), "power on")
    assert.equal(await redfishPower(), "On")
    assert.match(starts().at(-1) ?? "", / start pxe$/)
    // On again through Redfish: the machine that runs is the one there is.
    const pid = machinePid()
    await redfish("POST", "/redfish/v1/Systems/vm-1/Actions/ComputerSystem.Reset", { ResetType: "On" })
    assert.equal(machinePid(), pid)
    assert.equal(starts().length, 1)
    // Off through Redfish: IPMI reads it, and the machine process is gone.
    await redfish("POST", "/redfish/v1/Systems/vm-1/Actions/ComputerSystem.Reset", { ResetType: "ForceOff" })
    assert.equal(await ipmi(ipmitool.status(bmc)), "power off")
    assert.throws(() => process.kill(pid!, 0))
    // IPMI's boot device, then Redfish's power on: the start uses IPMI's device.
    await ipmi(ipmitool.setBootDevice(bmc, "disk", true))
    await redfish("POST", "/redfish/v1/Systems/vm-1/Actions/ComputerSystem.Reset", { ResetType: "On" })
    assert.equal(await ipmi(ipmitool.status(bmc)), "power on")
    assert.match(starts().at(-1) ?? "", / start default$/)
    assert.equal(starts().length, 2)
    await ipmi(ipmitool.powerOff(bmc))
    assert.equal(await redfishPower(), "Off")
  })
})
