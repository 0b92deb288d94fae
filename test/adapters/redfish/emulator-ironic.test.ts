// Debian's OpenStack Ironic 21.4 (python3-ironic, its own `redfish` hardware type over sushy)
// manages a node on the Redfish BMC emulator: manage (verify, which caches BIOS settings), power on
// and off, boot device set, BIOS settings list, all through Debian's `baremetal` CLI.
import { execFile, spawn, type ChildProcess } from "node:child_process"
import { randomUUID } from "node:crypto"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { promisify } from "node:util"
import { freeTcpPort } from "../../../src/adapters/sim/bmc/free-port.ts"
import { memoryMachine, selfSignedCertificate, startRedfishEmulator, type RedfishEmulator } from "../../../src/adapters/sim/redfish/index.ts"

const run = promisify(execFile)
const PYTHON = "/usr/bin/python3"
// requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the CA Ironic is given: drop them.
const { REQUESTS_CA_BUNDLE: _r, CURL_CA_BUNDLE: _c, ...baseEnv } = process.env

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("Ironic 21.4's redfish hardware type against the Redfish BMC emulator", () => {
  let dir: string
  let emulator: RedfishEmulator
  let ironic: ChildProcess | undefined
  let api: string
  let ca: string
  const env = () => ({ ...baseEnv, HOME: dir })
  const baremetal = async (...args: string[]) => {
    const r = await run("/usr/bin/baremetal", ["--os-auth-type", "none", "--os-endpoint", api, ...args], { env: env(), timeout: 90_000 })
    return r.stdout
  }
  // Waits poll Ironic's API directly: a CLI start per poll costs seconds of CPU.
  const show = async (field: string) =>
    ((await (await fetch(`${api}/v1/nodes/rf-node`, { headers: { "X-OpenStack-Ironic-API-Version": "1.78" } })).json()) as Record<string, unknown>)[field]
  const eventually = async (what: string, check: () => Promise<boolean>, ms = 60_000) => {
    for (const until = Date.now() + ms; !(await check());) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}; Ironic log tail:\n${readFileSync(join(dir, "ironic.log"), "utf8").slice(-3000)}`)
      await sleep(500)
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "redfish-ironic-"))
    const tls = await selfSignedCertificate("127.0.0.1")
    ca = join(dir, "ca.pem")
    writeFileSync(ca, tls.cert)
    emulator = await startRedfishEmulator({ machines: [memoryMachine("ir-1", randomUUID())], username: "admin", password: "ironic-Pa55", tls })
    const port = await freeTcpPort("127.0.0.1")
    api = `http://127.0.0.1:${port}`
    for (const d of ["tftp", "master", "locks"]) mkdirSync(join(dir, d))
    const conf = join(dir, "ironic.conf")
    writeFileSync(conf, [
      "[DEFAULT]", "auth_strategy = noauth", "rpc_transport = none", `log_file = ${join(dir, "ironic.log")}`,
      "enabled_hardware_types = redfish", "enabled_power_interfaces = redfish", "enabled_management_interfaces = redfish",
      "enabled_bios_interfaces = redfish", "enabled_boot_interfaces = pxe", "enabled_deploy_interfaces = direct",
      "enabled_inspect_interfaces = no-inspect", "enabled_console_interfaces = no-console", "enabled_raid_interfaces = no-raid",
      "enabled_rescue_interfaces = no-rescue", "enabled_vendor_interfaces = no-vendor", "enabled_network_interfaces = noop",
      "minimum_memory_warning_only = True",
      "[database]", `connection = sqlite:///${join(dir, "ironic.sqlite")}`,
      "[api]", "host_ip = 127.0.0.1", `port = ${port}`, "api_workers = 1", `public_endpoint = ${api}`,
      "[dhcp]", "dhcp_provider = none",
      "[conductor]", "automated_clean = False", "sync_power_state_interval = -1",
      "[pxe]", `tftp_root = ${join(dir, "tftp")}`, `tftp_master_path = ${join(dir, "master")}`,
      "[redfish]", "connection_attempts = 2", "connection_retry_interval = 1",
      "[oslo_concurrency]", `lock_path = ${join(dir, "locks")}`,
      "",
    ].join("\n"))
    const py = (module: string, ...args: string[]) =>
      `import sys; from ${module} import main; sys.argv=["ironic", "--config-file", ${JSON.stringify(conf)}, ${args.map((a) => JSON.stringify(a)).join(", ")}]; main()`
    await run(PYTHON, ["-c", py("ironic.cmd.dbsync", "create_schema")], { env: env(), timeout: 120_000 })
    ironic = spawn(PYTHON, ["-c", py("ironic.cmd.singleprocess")], { env: env(), stdio: "ignore", detached: true })
    await eventually("Ironic's API", async () => fetch(`${api}/v1`).then((r) => r.ok, () => false), 90_000)
  })
  after(async () => {
    if (ironic?.pid !== undefined && ironic.exitCode === null) {
      const exited = new Promise((r) => ironic!.once("exit", r))
      try { process.kill(-ironic.pid, "SIGTERM") } catch { /* gone */ }
      const timer = setTimeout(() => { try { process.kill(-ironic!.pid!, "SIGKILL") } catch { /* gone */ } }, 5000)
      await exited
      clearTimeout(timer)
    }
    await emulator?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test("manage (verify), power on and off, boot device set and BIOS settings list", { timeout: 300_000 }, async () => {
    const system = emulator.systems.get("ir-1")!
    await baremetal("node", "create", "--driver", "redfish", "--name", "rf-node",
      "--driver-info", `redfish_address=${emulator.url}`, "--driver-info", "redfish_system_id=/redfish/v1/Systems/ir-1",
      "--driver-info", "redfish_username=admin", "--driver-info", "redfish_password=ironic-Pa55", "--driver-info", `redfish_verify_ca=${ca}`)
    await baremetal("node", "manage", "rf-node")
    await eventually("manageable", async () => (await show("provision_state")) === "manageable")
    assert.equal(await show("power_state"), "power off")

    await baremetal("node", "power", "on", "rf-node")
    await eventually("power on", async () => (await show("power_state")) === "power on")
    assert.equal(await system.machine.power(), "On")

    await baremetal("node", "boot", "device", "set", "rf-node", "pxe", "--persistent")
    assert.equal(system.boot.target, "Pxe")
    assert.equal(system.boot.enabled, "Continuous")
    const device = JSON.parse(await baremetal("node", "boot", "device", "show", "rf-node", "-f", "json")) as Record<string, unknown>
    assert.equal(device["boot_device"], "pxe")

    await baremetal("node", "power", "off", "rf-node")
    await eventually("power off", async () => (await show("power_state")) === "power off")
    assert.equal(await system.machine.power(), "Off")

    const bios = JSON.parse(await baremetal("node", "bios", "setting", "list", "rf-node", "-f", "json")) as Array<Record<string, unknown>>
    const byName = new Map(bios.map((s) => [s["BIOS setting name"], s["BIOS setting value"]]))
    assert.equal(byName.get("ProcTurboMode"), "Enabled")
    assert.equal(byName.size, Object.keys(system.bios).length)
  })
})
