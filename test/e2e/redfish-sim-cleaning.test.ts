// End to end over HTTP on the simulated rack: `ironledger serve --sim 1` runs one simulated machine
// behind a real ipmi_sim and, in front of the same machine, the Redfish BMC emulator, whose URL,
// credentials and CA it writes to <state>/redfish.json (0600). A node enrolled with driver redfish
// on that machine runs manual cleaning: bios.apply_configuration, then firmware.update from an
// image served here; after each step's reboot the BMC's new report is in the node's log, so
// GET /v1/nodes/{id}/bios shows the new values and the firmware list the new version. The reboots
// go through Redfish and start the machine behind ipmi_sim: one machine, one power state.
// Needs root (the rack's TFTP on port 69, tgtd), as test/e2e/real-deploy.test.ts.
import { spawn, type ChildProcess } from "node:child_process"
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { basename, join, resolve } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { client, okClient, untilSettled } from "../adapters/http-harness.ts"
import { readStatus } from "../../src/adapters/sim/machine/status.ts"
import { controlSocketPath } from "../../src/adapters/sim/tgt/account.ts"
import { machineTgtdControlPort } from "../../src/adapters/sim/machine/spawn.ts"
import { realRackUnavailable } from "../../src/cli/sim-rack/preflight.ts"

const ironledger = resolve(import.meta.dirname, "../../bin/ironledger")
const MACHINE = "sim-00001"
const work = mkdtempSync(join(tmpdir(), "ironledger-redfish-sim-"))
chmodSync(work, 0o755) // dnsmasq serves the TFTP tree as nobody
const db = join(work, "ironledger.sqlite")
const state = `${db}.state`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let child: ChildProcess | null = null
let exited: Promise<number | null> = Promise.resolve(null)
let said = ""
let url = ""
let images: Server | null = null
let imagesUrl = ""

const strays = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid).filter((d) => {
  try {
    const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ")
    return cmd.includes(work) || new RegExp(`^tgtd .*-C ${machineTgtdControlPort(1)}\\b`).test(cmd)
  } catch { return false }
})
process.once("exit", () => { child?.kill("SIGKILL"); for (const p of strays()) try { process.kill(Number(p), "SIGKILL") } catch { /* gone */ } })

const startServe = async () => {
  child = spawn(ironledger, ["serve", "--db", basename(db), "--port", "0", "--sim", "1"], { cwd: work, stdio: ["ignore", "pipe", "pipe"] })
  const c = child
  exited = new Promise((r) => c.once("exit", (code) => r(code)))
  const from = said.length
  url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve did not start within 60 s: ${said.slice(-3000)}`)), 60_000)
    const hear = (d: Buffer) => {
      said += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(said.slice(from))
      if (m) { clearTimeout(timer); ok(m[1]!) }
    }
    c.stdout!.on("data", hear)
    c.stderr!.on("data", hear)
    void exited.then((code) => { clearTimeout(timer); fail(new Error(`serve exited with ${code}: ${said.slice(-3000)}`)) })
  })
}

const stopServe = async () => {
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM")
    const t = setTimeout(() => child?.kill("SIGKILL"), 20_000)
    await exited
    clearTimeout(t)
  }
  child = null
}

type Doc = Record<string, any>
const api = client(() => url, undefined, 15_000)
const ok = okClient(() => url)
const reach = (name: string, wanted: string, ms: number): Promise<Doc> =>
  untilSettled((n) => ok("GET", `/v1/nodes/${n}`), name, wanted, { ms, pollMs: 150, context: () => said.slice(-3000) })
const clean = async (name: string, steps: ReadonlyArray<Doc>) => {
  await ok("PUT", `/v1/nodes/${name}/states/provision`, { target: "clean", clean_steps: steps })
  const n = await reach(name, "manageable", 60_000)
  assert.equal(n["last_error"], null, `cleaning failed: ${n["last_error"]}`)
}
const historyTypes = async (name: string) =>
  ((await ok("GET", `/v1/nodes/${name}/history/detail`))["history"] as Doc[]).map((h) => `${h["type"]}${h["data"]?.["step"] === undefined ? "" : ` ${h["data"]["step"].replace(/^[^:]*:/, "")}`}`)

before(async () => {
  const why = realRackUnavailable()
  assert.equal(why, null, `this test runs the rack on real servers: ${why}`)
  // Firmware images where the BMC fetches them: the emulator reads the header line.
  images = createServer((req, res) => {
    const m = /^\/(BIOS|BMC)-([0-9.]+)\.bin$/.exec(req.url ?? "")
    if (m === null) { res.statusCode = 404; res.end(); return }
    res.end(`ironledger-firmware ${m[1]} ${m[2]}\n${"\0".repeat(64)}`)
  })
  await new Promise<void>((r) => images!.listen(0, "127.0.0.1", r))
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`
  await startServe()
})

after(async () => {
  await stopServe()
  for (let i = 0; i < 40 && strays().length > 0; i++) await sleep(100)
  const left = strays()
  for (const p of left) try { process.kill(Number(p), "SIGKILL") } catch { /* gone */ }
  await new Promise((r) => images?.close(r) ?? r(null))
  rmSync(controlSocketPath(machineTgtdControlPort(1)), { force: true })
  rmSync(`${controlSocketPath(machineTgtdControlPort(1))}.lock`, { force: true })
  rmSync(work, { recursive: true, force: true })
  assert.deepEqual(left, [], "processes outlived the service")
})

describe("serve --sim 1: a redfish node on the simulated machine, BIOS and firmware through cleaning", { timeout: 180_000 }, () => {
  test("serve writes the Redfish BMC's URL, credentials and CA (0600); a redfish node on the machine is managed", async () => {
    const file = join(state, "redfish.json")
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const bmc = JSON.parse(readFileSync(file, "utf8")) as { url: string; username: string; password: string; ca: string }
    assert.match(bmc.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(!said.includes(bmc.password), "the Redfish password was printed")
    const created = await api("POST", "/v1/nodes", {
      name: "rf-sim", driver: "redfish",
      driver_info: {
        redfish_address: bmc.url, redfish_system_id: `/redfish/v1/Systems/${MACHINE}`,
        redfish_username: bmc.username, redfish_password: bmc.password, redfish_verify_ca: bmc.ca,
      },
    })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    await ok("PUT", "/v1/nodes/rf-sim/states/provision", { target: "manage" })
    const n = await reach("rf-sim", "manageable", 30_000)
    assert.equal(n["power_state"], "power off")
    const bios = (await ok("GET", "/v1/nodes/rf-sim/bios"))["bios"] as Doc[]
    assert.equal(bios.find((s) => s["name"] === "ProcTurboMode")?.["value"], "Enabled")
  })

  test("bios.apply_configuration: the new values are in GET /bios after the reboot, which started the machine behind ipmi_sim", async () => {
    const before = readStatus(join(state, "rack", "machines", MACHINE, "state"))
    const started = Date.now()
    await clean("rf-sim", [{
      interface: "bios", step: "apply_configuration",
      args: { settings: [{ name: "ProcTurboMode", value: "Disabled" }, { name: "SriovGlobalEnable", value: "Enabled" }] },
    }])
    console.log(`# bios.apply_configuration with its reboot: ${((Date.now() - started) / 1000).toFixed(1)} s`)
    const bios = new Map(((await ok("GET", "/v1/nodes/rf-sim/bios"))["bios"] as Doc[]).map((s) => [s["name"], s["value"]]))
    assert.equal(bios.get("ProcTurboMode"), "Disabled")
    assert.equal(bios.get("SriovGlobalEnable"), "Enabled")
    assert.equal(bios.get("NumLock"), "On", "a setting not asked for kept its value")
    assert.equal((await ok("GET", "/v1/nodes/rf-sim/bios/ProcTurboMode"))["ProcTurboMode"]["value"], "Disabled")
    // Recorded after the reboot that applied them, not when they were only pending.
    const types = await historyTypes("rf-sim")
    const reboot = types.lastIndexOf("PowerStateChanged clean-step:0:bios.apply_configuration:reboot")
    assert.ok(reboot >= 0, types.join("\n"))
    assert.ok(types.indexOf("BiosSettingsCached", reboot) > reboot, types.join("\n"))
    // The Redfish reboot powered the one machine ipmi_sim fronts: a new boot of its simulator.
    let now = readStatus(join(state, "rack", "machines", MACHINE, "state"))
    for (let i = 0; i < 100 && (now === null || now.pid === before?.pid); i++) {
      await sleep(100)
      now = readStatus(join(state, "rack", "machines", MACHINE, "state"))
    }
    assert.ok(now !== null && now.pid !== before?.pid, `the machine behind ipmi_sim did not start\n${said.slice(-2000)}`)
    assert.equal((await ok("GET", "/v1/nodes/rf-sim"))["power_state"], "power on")
  })

  test("firmware.update: the firmware list shows the new BIOS version after the reboot", async () => {
    await clean("rf-sim", [{ interface: "firmware", step: "update", args: { settings: [{ component: "bios", url: `${imagesUrl}/BIOS-2.1.0.bin` }] } }])
    const firmware = (await ok("GET", "/v1/nodes/rf-sim/firmware_components"))["firmware"] as Doc[]
    const bios = firmware.find((c) => c["component"] === "bios")
    assert.equal(bios?.["initial_version"], "1.0.0")
    assert.equal(bios?.["current_version"], "2.1.0")
    assert.equal(bios?.["last_version_flashed"], "2.1.0")
    assert.equal(firmware.find((c) => c["component"] === "bmc")?.["current_version"], "1.0.0")
    // Ironic's own path answers only from API 1.86, above what this service offers.
    assert.equal((await api("GET", "/v1/nodes/rf-sim/firmware")).status, 404)
    const above = await fetch(`${url}/v1/nodes/rf-sim/firmware`, { headers: { "X-OpenStack-Ironic-API-Version": "1.86" } })
    assert.equal(above.status, 406)
  })

  test("after a restart (new port and password) the redfish node is pointed at the new emulator and powers the machine off", async () => {
    const before = JSON.parse(readFileSync(join(state, "redfish.json"), "utf8")) as { url: string; password: string }
    await stopServe()
    await startServe()
    const now = JSON.parse(readFileSync(join(state, "redfish.json"), "utf8")) as { url: string; password: string }
    assert.notEqual(now.password, before.password)
    let n = await ok("GET", "/v1/nodes/rf-sim")
    for (let i = 0; i < 100 && n["driver_info"]["redfish_address"] !== now.url; i++) { await sleep(100); n = await ok("GET", "/v1/nodes/rf-sim") }
    assert.equal(n["driver_info"]["redfish_address"], now.url)
    await ok("PUT", "/v1/nodes/rf-sim/states/power", { target: "power on" })
    for (let i = 0; i < 200 && n["power_state"] !== "power on"; i++) { await sleep(100); n = await ok("GET", "/v1/nodes/rf-sim") }
    assert.equal(n["power_state"], "power on", `${n["last_error"]}`)
    await ok("PUT", "/v1/nodes/rf-sim/states/power", { target: "power off" })
    for (let i = 0; i < 200 && n["power_state"] !== "power off"; i++) { await sleep(100); n = await ok("GET", "/v1/nodes/rf-sim") }
    assert.equal(n["power_state"], "power off", `${n["last_error"]}`)
  })
})
