// End to end: `ironledger serve` as a real process (SQLite log, fake-hardware and sim nodes), driven by
// Debian's real `baremetal` CLI (python3-ironicclient) through a node's whole life, then by
// ironledger's own CLI: CSV import and the offline audit commands reading the SQLite file.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { startServeProcess, type ServeProcess } from "../support/serve-process.ts"

const root = resolve(import.meta.dirname, "../..")
const ironledger = join(root, "bin/ironledger")
const baremetalBin = "/usr/bin/baremetal"

let dir: string
let db: string
let url: string
let server: ServeProcess | undefined

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

const run = (file: string, args: ReadonlyArray<string>, timeoutMs = 90_000): Promise<Run> =>
  new Promise((resolvePromise) => {
    // HOME in the temp dir: the CLI caches negotiated versions per endpoint under ~/.cache.
    execFile(file, args, { env: { ...process.env, HOME: dir, PATH: "/usr/bin:/bin" }, timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 128
        resolvePromise({ code, stdout, stderr })
      })
  })

const baremetal = (...args: Array<string>) => run(baremetalBin, ["--os-auth-type", "none", "--os-endpoint", url, ...args])
const il = (...args: Array<string>) => run(ironledger, [...args, "--url", url])

const ok = (r: Run, what: string) => {
  assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}

const api = async (path: string) => {
  const res = await fetch(`${url}${path}`, { headers: { "X-OpenStack-Ironic-API-Version": "1.78" }, signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

const eventually = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-e2e-"))
  db = join(dir, "ironledger.db")
  server = await startServeProcess(["--db", db])
  url = server.url
})

after(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe("Debian's baremetal CLI drives ironledger", () => {
  let uuid: string

  test("node create, port create, list and show", async () => {
    const created = ok(await baremetal("node", "create", "--driver", "fake-hardware", "--name", "e2e-1",
      "--property", "cpus=2", "--property", "memory_mb=2048", "-f", "json"), "node create")
    const node = JSON.parse(created.stdout) as { uuid: string; provision_state: string; name: string }
    uuid = node.uuid
    assert.equal(node.provision_state, "enroll")
    assert.equal(node.name, "e2e-1")
    const port = ok(await baremetal("port", "create", "52:54:00:e2:e2:01", "--node", uuid, "-f", "json"), "port create")
    assert.equal(JSON.parse(port.stdout).node_uuid, uuid)
    const byName = await baremetal("port", "create", "52:54:00:e2:e2:02", "--node", "e2e-1")
    assert.notEqual(byName.code, 0)
    assert.match(byName.stderr, /Expected a UUID but received "e2e-1"/)
    const list = JSON.parse(ok(await baremetal("node", "list", "-f", "json"), "node list").stdout) as Array<Record<string, unknown>>
    assert.deepEqual(list.map((n) => n["Name"]), ["e2e-1"])
    assert.equal(list[0]!["Provisioning State"], "enroll")
    const shown = JSON.parse(ok(await baremetal("node", "show", "e2e-1", "-f", "json"), "node show").stdout)
    assert.equal(shown.uuid, uuid)
    assert.equal(shown.properties.cpus, 2)
    const ports = JSON.parse(ok(await baremetal("port", "list", "--node", uuid, "-f", "json"), "port list").stdout) as Array<Record<string, unknown>>
    assert.deepEqual(ports.map((p) => p["Address"]), ["52:54:00:e2:e2:01"])
  })

  test("node set and unset", async () => {
    ok(await baremetal("node", "set", "e2e-1", "--extra", "rack=r7", "--extra", "row=3", "--driver-info", "note=lab-a"), "node set")
    ok(await baremetal("node", "unset", "e2e-1", "--extra", "row"), "node unset")
    const shown = JSON.parse(ok(await baremetal("node", "show", "e2e-1", "-f", "json"), "node show").stdout)
    assert.deepEqual(shown.extra, { rack: "r7" })
    assert.equal(shown.driver_info.note, "lab-a")
    const missing = await baremetal("node", "unset", "e2e-1", "--extra", "never-set")
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /non-existent/)
  })

  test("manage, provide and deploy --wait bring the node to active", { timeout: 240_000 }, async () => {
    ok(await baremetal("node", "manage", "e2e-1", "--wait", "60"), "manage")
    assert.equal((await api(`/v1/nodes/${uuid}`)).body["provision_state"], "manageable")
    ok(await baremetal("node", "provide", "e2e-1", "--wait", "60"), "provide")
    assert.equal((await api(`/v1/nodes/${uuid}`)).body["provision_state"], "available")
    ok(await baremetal("node", "deploy", "e2e-1", "--wait", "90"), "deploy")
    const node = (await api(`/v1/nodes/${uuid}`)).body
    assert.equal(node["provision_state"], "active")
    assert.equal(node["power_state"], "power on")
  })

  test("power off, power on and reboot", { timeout: 120_000 }, async () => {
    const power = async () => (await api(`/v1/nodes/${uuid}`)).body
    ok(await baremetal("node", "power", "off", "e2e-1"), "power off")
    await eventually("power off", async () => (await power())["power_state"] === "power off")
    ok(await baremetal("node", "power", "on", "e2e-1"), "power on")
    await eventually("power on", async () => (await power())["power_state"] === "power on")
    ok(await baremetal("node", "reboot", "e2e-1"), "reboot")
    await eventually("reboot done", async () => {
      const n = await power()
      return n["power_state"] === "power on" && n["target_power_state"] === null
    })
    const history = (await api(`/v1/nodes/${uuid}/history`)).body["history"] as Array<{ type: string }>
    assert.ok(history.some((h) => h.type === "RebootRequested"))
  })

  test("an invalid transition is refused with a clear message", async () => {
    const r = await baremetal("node", "provide", "e2e-1")
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, new RegExp(`The requested action "provide" can not be performed on node "${uuid}" while it is in state "active". \\(HTTP 400\\)`))
  })

  test("undeploy --wait returns the node to available", { timeout: 180_000 }, async () => {
    ok(await baremetal("node", "undeploy", "e2e-1", "--wait", "90"), "undeploy")
    const node = (await api(`/v1/nodes/${uuid}`)).body
    assert.equal(node["provision_state"], "available")
    assert.deepEqual(node["instance_info"], {})
  })

  test("history lists every event of the node", async () => {
    const list = JSON.parse(ok(await baremetal("node", "history", "list", "e2e-1", "-f", "json"), "history list").stdout) as Array<Record<string, string>>
    const api1 = (await api(`/v1/nodes/${uuid}/history`)).body["history"] as Array<{ uuid: string; type: string }>
    assert.deepEqual(list.map((e) => e["UUID"]), api1.map((e) => e.uuid))
    for (const t of ["Enrolled", "PortAdded", "ManageRequested", "DeployRequested", "DeployDone", "UndeployRequested"]) {
      assert.ok(api1.some((e) => e.type === t), `history lacks ${t}`)
    }
    const one = JSON.parse(ok(await baremetal("node", "history", "get", "e2e-1", api1[0]!.uuid, "-f", "json"), "history get").stdout)
    assert.match(one.event, /enrolled e2e-1/)
  })

  test("ironledger's offline audit reads the same log from the SQLite file", async () => {
    const offline = JSON.parse(ok(await run(ironledger, ["history", "e2e-1", "--db", db, "--json"]), "offline history").stdout) as Array<{ revision: number; event: string }>
    const online = (await api(`/v1/nodes/${uuid}/history`)).body["history"] as Array<{ revision: number; type: string }>
    assert.deepEqual(offline.map((e) => [e.revision, e.event]), online.map((e) => [e.revision, e.type]))
    const deployDone = online.find((e) => e.type === "DeployDone") as unknown as { created_at: string }
    const then = JSON.parse(ok(await run(ironledger, ["state", "e2e-1", "--at", deployDone.created_at, "--db", db, "--json"]), "offline state").stdout)
    assert.equal(then.provisionState, "active")
    const replay = JSON.parse(ok(await run(ironledger, ["replay", "--db", db, "--json"]), "replay").stdout)
    assert.ok(replay.events >= online.length)
  })

  test("node delete removes it", async () => {
    ok(await baremetal("node", "delete", "e2e-1"), "node delete")
    const gone = await baremetal("node", "show", "e2e-1")
    assert.notEqual(gone.code, 0)
    assert.match(gone.stderr, /could not be found/)
  })
})

describe("fake-hardware as in Ironic, and the hardware types through the stock CLI", () => {
  test("a fake-hardware node with ipmi_* driver_info and no port goes through its life, each transition within 1 s", { timeout: 240_000 }, async () => {
    const created = JSON.parse(ok(await baremetal("node", "create", "--driver", "fake-hardware", "--name", "fake-ipmi",
      "--driver-info", "ipmi_address=192.0.2.50", "--driver-info", "ipmi_username=admin", "--driver-info", "ipmi_password=lab-pass-9",
      "-f", "json"), "node create").stdout) as Record<string, unknown>
    assert.equal(created["power_interface"], "fake")
    assert.equal(created["deploy_interface"], "fake")
    assert.equal((created["driver_info"] as Record<string, unknown>)["ipmi_password"], "******")
    for (const verb of ["manage", "provide", "deploy", "undeploy"]) ok(await baremetal("node", verb, "fake-ipmi", "--wait", "60"), verb)
    const history = (await api("/v1/nodes/fake-ipmi/history")).body["history"] as Array<{ type: string; created_at: string }>
    const at = (type: string, after = 0) => {
      const i = history.findIndex((h, k) => k >= after && h.type === type)
      assert.ok(i >= 0, `history lacks ${type}: ${history.map((h) => h.type).join(", ")}`)
      return { i, t: Date.parse(history[i]!.created_at) }
    }
    for (const [asked, done] of [["ManageRequested", "Verified"], ["ProvideRequested", "CleaningDone"], ["DeployRequested", "DeployDone"], ["UndeployRequested", "CleaningDone"]] as const) {
      const from = at(asked)
      const to = at(done, from.i)
      assert.ok(to.t - from.t < 1000, `${asked} -> ${done} took ${to.t - from.t} ms`)
    }
    const node = (await api("/v1/nodes/fake-ipmi")).body
    assert.equal(node["provision_state"], "available")
    assert.equal(history.filter((h) => h.type === "CallbackAwaited").length, 0, "fake-hardware waited for a ramdisk")
  })

  test("driver list, driver show and driver property list", async () => {
    const list = JSON.parse(ok(await baremetal("driver", "list", "-f", "json"), "driver list").stdout) as Array<Record<string, unknown>>
    const names = list.map((d) => d["Supported driver(s)"])
    for (const name of ["fake-hardware", "ipmi", "sim"]) assert.ok(names.includes(name), `driver list lacks ${name}: ${names.join(", ")}`)
    const ipmi = JSON.parse(ok(await baremetal("driver", "show", "ipmi", "-f", "json"), "driver show").stdout) as Record<string, unknown>
    assert.equal(ipmi["default_power_interface"], "ipmitool")
    assert.equal(ipmi["default_boot_interface"], "pxe")
    assert.match(String(ipmi["enabled_deploy_interfaces"]), /^\[?.?iscsi.?\]?$/)
    const props = JSON.parse(ok(await baremetal("driver", "property", "list", "ipmi", "-f", "json"), "driver property list").stdout) as Array<Record<string, string>>
    const byName = new Map(props.map((p) => [p["Property"], p["Description"]]))
    assert.match(byName.get("ipmi_address") ?? "", /Required\./)
    assert.ok(byName.has("ipmi_password") && byName.has("deploy_kernel"))
    const redfishProps = JSON.parse(ok(await baremetal("driver", "property", "list", "redfish", "-f", "json"), "driver property list redfish").stdout) as Array<Record<string, string>>
    const redfishByName = new Map(redfishProps.map((p) => [p["Property"], p["Description"]]))
    assert.match(redfishByName.get("redfish_address") ?? "", /Required\./)
    assert.ok(redfishByName.has("redfish_password") && redfishByName.has("redfish_verify_ca") && redfishByName.has("deploy_kernel"))
    const unknown = await baremetal("driver", "show", "no-such-vendor")
    assert.notEqual(unknown.code, 0)
    assert.match(unknown.stderr, /no-such-vendor/)
  })

  test("interfaces are shown, set and refused as the hardware type allows; bad BMC settings are refused at enroll", async () => {
    const node = JSON.parse(ok(await baremetal("node", "create", "--driver", "fake-hardware", "--name", "iface-1", "-f", "json"), "create").stdout)
    assert.equal(node["inspect_interface"], "fake")
    ok(await baremetal("node", "set", "iface-1", "--inspect-interface", "no-inspect"), "set inspect interface")
    assert.equal((await api("/v1/nodes/iface-1")).body["inspect_interface"], "no-inspect")
    const wrong = await baremetal("node", "set", "iface-1", "--power-interface", "ipmitool")
    assert.notEqual(wrong.code, 0)
    assert.match(wrong.stderr, /does not support power_interface "ipmitool"/)
    ok(await baremetal("node", "unset", "iface-1", "--inspect-interface"), "unset inspect interface")
    assert.equal((await api("/v1/nodes/iface-1")).body["inspect_interface"], "fake")
    const badAddress = await baremetal("node", "create", "--driver", "ipmi", "--driver-info", "ipmi_address=not a host!")
    assert.notEqual(badAddress.code, 0)
    assert.match(badAddress.stderr, /ipmi_address must be a host name or an IP address/)
    const badPort = await baremetal("node", "create", "--driver", "ipmi", "--driver-info", "ipmi_address=192.0.2.1", "--driver-info", "ipmi_port=70000")
    assert.notEqual(badPort.code, 0)
    assert.match(badPort.stderr, /ipmi_port must be a port number from 1 to 65535/)
    const unknownType = await baremetal("node", "create", "--driver", "acme-bmc")
    assert.notEqual(unknownType.code, 0)
    assert.match(unknownType.stderr, /Could not find the following driver\(s\) or hardware type\(s\): acme-bmc/)
    const noAddress = JSON.parse(ok(await baremetal("node", "create", "--driver", "ipmi", "--name", "no-bmc", "-f", "json"), "create ipmi").stdout)
    const validated = JSON.parse(ok(await baremetal("node", "validate", "no-bmc", "-f", "json"), "validate").stdout) as Array<Record<string, unknown>>
    const power = validated.find((v) => v["Interface"] === "power")!
    assert.equal(power["Result"], false)
    assert.match(String(power["Reason"]), /Missing the following IPMI credentials in node's driver_info: ipmi_address/)
    // An interface the hardware type does not have validates as None, as in Ironic (ipmi has no BIOS interface).
    assert.equal(validated.find((v) => v["Interface"] === "bios")!["Result"], null)
    ok(await baremetal("node", "delete", noAddress.uuid), "delete")
    ok(await baremetal("node", "delete", "iface-1"), "delete")
  })

  // Each CLI call is a Python start (about 1.3 s on an idle machine): the checks share nodes and calls.
  test("port groups, volume connectors and targets, inject nmi, reset-interfaces and conductors", { timeout: 600_000 }, async () => {
    const node = JSON.parse(ok(await baremetal("node", "create", "--driver", "sim", "--name", "parts-1", "-f", "json"), "create").stdout)
    const group = JSON.parse(ok(await baremetal("port", "group", "create", "--node", node.uuid, "--name", "bond0", "--address", "52:54:00:e2:0b:01",
      "--mode", "802.3ad", "--property", "miimon=100", "-f", "json"), "port group create").stdout)
    assert.deepEqual([group.name, group.mode, group.properties], ["bond0", "802.3ad", { miimon: 100 }])
    const port = JSON.parse(ok(await baremetal("port", "create", "52:54:00:e2:0b:11", "--node", node.uuid, "--port-group", group.uuid, "-f", "json"), "port create in group").stdout)
    assert.equal(port.portgroup_uuid, group.uuid)
    const groups = JSON.parse(ok(await baremetal("port", "group", "list", "--node", node.uuid, "-f", "json"), "port group list").stdout) as Array<Record<string, unknown>>
    assert.deepEqual(groups.map((g) => g["Name"]), ["bond0"])
    const shown = JSON.parse(ok(await baremetal("port", "group", "show", "bond0", "-f", "json"), "port group show").stdout)
    assert.equal(shown.address, "52:54:00:e2:0b:01")
    const full = await baremetal("port", "group", "delete", "bond0")
    assert.notEqual(full.code, 0)
    assert.match(full.stderr, /contains ports/)
    ok(await baremetal("port", "delete", port.uuid), "port delete")
    ok(await baremetal("port", "group", "delete", "bond0"), "port group delete")

    ok(await baremetal("volume", "connector", "create", "--node", node.uuid, "--type", "iqn", "--connector-id", "iqn.2026-11.org.example:parts-1"), "volume connector create")
    ok(await baremetal("volume", "target", "create", "--node", node.uuid, "--type", "iscsi", "--boot-index", "0", "--volume-id", "vol-parts-1"), "volume target create")
    const connectors = JSON.parse(ok(await baremetal("volume", "connector", "list", "--node", node.uuid, "-f", "json"), "volume connector list").stdout) as Array<Record<string, unknown>>
    assert.deepEqual(connectors.map((c) => c["Connector ID"]), ["iqn.2026-11.org.example:parts-1"])
    const targets = JSON.parse(ok(await baremetal("volume", "target", "list", "--node", node.uuid, "-f", "json"), "volume target list").stdout) as Array<Record<string, unknown>>
    assert.deepEqual(targets.map((t) => [t["Volume ID"], t["Boot Index"]]), [["vol-parts-1", 0]])

    const power = await fetch(`${url}/v1/nodes/parts-1/states/power`, {
      method: "PUT", body: JSON.stringify({ target: "power on" }),
      headers: { "X-OpenStack-Ironic-API-Version": "1.78", "Content-Type": "application/json" }, signal: AbortSignal.timeout(5000),
    })
    assert.equal(power.status, 202)
    await eventually("parts-1 powered on", async () => (await api("/v1/nodes/parts-1")).body["power_state"] === "power on")
    ok(await baremetal("node", "inject", "nmi", "parts-1"), "inject nmi")
    const history = JSON.stringify((await api(`/v1/nodes/${node.uuid}/history`)).body)
    assert.match(history, /NMI injected/)

    const fake = await fetch(`${url}/v1/nodes`, {
      method: "POST", body: JSON.stringify({ driver: "fake-hardware", name: "parts-2" }),
      headers: { "X-OpenStack-Ironic-API-Version": "1.78", "Content-Type": "application/json" }, signal: AbortSignal.timeout(5000),
    })
    assert.equal(fake.status, 201)
    const kept = await baremetal("node", "set", "parts-2", "--driver", "ipmi")
    assert.notEqual(kept.code, 0)
    assert.match(kept.stderr, /reset_interfaces/)
    ok(await baremetal("node", "set", "parts-2", "--driver", "ipmi", "--reset-interfaces"), "set driver with reset")
    assert.equal((await api("/v1/nodes/parts-2")).body["power_interface"], "ipmitool")

    const conductors = JSON.parse(ok(await baremetal("conductor", "list", "-f", "json"), "conductor list").stdout) as Array<Record<string, unknown>>
    assert.ok(conductors.some((c) => c["Alive"] === true), JSON.stringify(conductors))
  })
})

describe("ironledger node import", () => {
  const header = "name,driver,bmc_address,bmc_port,bmc_user,bmc_password,macs,cpus,memory_mb,local_gb,cpu_arch"

  test("a good file enrolls every row with its ports; secrets never echo back", async () => {
    const file = join(dir, "good.csv")
    writeFileSync(file, [
      "# rack 1",
      header,
      "csv-01,ipmi,127.0.0.1,6230,admin,pw-one,52:54:00:c5:00:01;52:54:00:c5:00:02,8,16384,100,x86_64",
      "csv-02,,127.0.0.1,6231,admin,\"pw,two\",52-54-00-C5-00-03,8,16384,100,x86_64",
      "",
      "csv-03,fake-hardware,,,,,52:54:00:c5:00:04,4,8192,40,x86_64",
    ].join("\n"))
    const r = ok(await il("node", "import", file, "--json"), "import")
    const created = JSON.parse(r.stdout) as Array<{ line: number; name: string; uuid: string; ports: number }>
    assert.deepEqual(created.map((c) => [c.line, c.name, c.ports]), [[3, "csv-01", 2], [4, "csv-02", 1], [6, "csv-03", 1]])
    assert.ok(!r.stdout.includes("pw-one") && !r.stderr.includes("pw-one"))
    const n1 = (await api("/v1/nodes/csv-01")).body
    assert.equal(n1["driver"], "ipmi")
    assert.deepEqual(n1["driver_info"], { ipmi_address: "127.0.0.1", ipmi_port: 6230, ipmi_username: "admin", ipmi_password: "******" })
    assert.deepEqual(n1["properties"], { cpus: 8, memory_mb: 16384, local_gb: 100, cpu_arch: "x86_64" })
    assert.equal((await api("/v1/nodes/csv-03")).body["driver"], "fake-hardware")
    const ports = (await api("/v1/ports/detail?node=csv-02")).body["ports"] as Array<{ address: string }>
    assert.deepEqual(ports.map((p) => p.address), ["52:54:00:c5:00:03"])
  })

  test("a file with a bad row names its line and imports nothing", async () => {
    const before = ((await api("/v1/nodes?limit=1000")).body["nodes"] as Array<unknown>).length
    const file = join(dir, "bad.csv")
    writeFileSync(file, [
      header,
      "csv-10,ipmi,127.0.0.1,6232,admin,pw,52:54:00:c5:00:10,8,16384,100,x86_64",
      "csv-11,ipmi,127.0.0.1,99999,admin,pw,52:54:00:c5:00:11,8,16384,100,x86_64",
      "csv-12,ipmi,127.0.0.1,6233,admin,pw,52:54:00:zz:00:12,8,lots,100,x86_64",
    ].join("\n"))
    const r = await il("node", "import", file)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /bad\.csv:3: bmc_port "99999" is not a TCP port/)
    assert.match(r.stderr, /bad\.csv:4: "52:54:00:zz:00:12" is not a valid MAC address/)
    assert.match(r.stderr, /bad\.csv:4: memory_mb "lots" is not a whole number/)
    assert.match(r.stderr, /nothing was imported/)
    assert.equal(((await api("/v1/nodes?limit=1000")).body["nodes"] as Array<unknown>).length, before)
    assert.equal((await api("/v1/nodes/csv-10")).status, 404)
  })

  test("a row clashing with what the service holds is reported by line, and nothing is imported", async () => {
    const file = join(dir, "clash.csv")
    writeFileSync(file, [
      "name,macs",
      "csv-20,52:54:00:c5:00:20",
      "csv-21,52:54:00:c5:00:01",
      "csv-01,52:54:00:c5:00:22",
      "csv-20,52:54:00:c5:00:23",
    ].join("\n"))
    const r = await il("node", "import", file)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /clash\.csv:5: name csv-20 is already used on line 2/)
    const fixed = join(dir, "clash2.csv")
    writeFileSync(fixed, ["name,macs", "csv-20,52:54:00:c5:00:20", "csv-21,52:54:00:c5:00:01", "csv-01,52:54:00:c5:00:22"].join("\n"))
    const r2 = await il("node", "import", fixed)
    assert.equal(r2.code, 1)
    assert.match(r2.stderr, /clash2\.csv:3: a port with MAC 52:54:00:c5:00:01 already exists/)
    assert.match(r2.stderr, /clash2\.csv:4: a node named csv-01 already exists/)
    assert.equal((await api("/v1/nodes/csv-20")).status, 404)
  })

  test("unknown columns and a missing macs column are refused on the header line", async () => {
    const file = join(dir, "header.csv")
    writeFileSync(file, ["name,bmc_adress", "csv-30,127.0.0.1"].join("\n"))
    const r = await il("node", "import", file)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /header\.csv:1: unknown column "bmc_adress"/)
    assert.match(r.stderr, /header\.csv:1: the header needs a "macs" column/)
  })
})

describe("ironledger's own provisioning commands", () => {
  test("manage, provide, deploy --wait show state changes and settle; errors exit non-zero", { timeout: 120_000 }, async () => {
    ok(await il("node", "enroll", "--driver", "fake-hardware", "--name", "own-1"), "enroll")
    ok(await il("port", "add", "52:54:00:0e:00:01", "--node", "own-1"), "port add")
    const managed = ok(await il("manage", "own-1", "--wait", "60"), "manage")
    assert.match(managed.stderr, /^\[\d+\.\ds\] own-1: (verifying|manageable); --wait deadline /m)
    assert.match(managed.stderr, /^own-1 is manageable$/m)
    const refused = await il("deploy", "own-1")
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /can not be performed on node "own-1" while it is in state "manageable"/)
    ok(await il("provide", "own-1", "--wait", "60"), "provide")
    const deployed = ok(await il("deploy", "own-1", "--wait", "60", "--json"), "deploy")
    assert.equal(JSON.parse(deployed.stdout).provision_state, "active")
    assert.match(deployed.stderr, /own-1: (deploying|wait call-back|active)/)
    const secret = await il("node", "set", "own-1", "--driver-info", "ipmi_password=oops")
    assert.equal(secret.code, 2)
    assert.match(secret.stderr, /secrets-file/)
    const list = JSON.parse(ok(await il("node", "list", "--json", "--provision-state", "active"), "list").stdout) as Array<{ name: string }>
    assert.ok(list.some((n) => n.name === "own-1"))
  })
})
