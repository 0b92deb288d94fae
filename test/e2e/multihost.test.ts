// Conductors on several hosts (issue 14): PostgreSQL, an API and three conductors, each on a host
// of its own (a network namespace made here), joined by a bridge in a namespace of its own; the
// test talks to the API from the bridge's namespace too, never through the machine's own network.
// 60 sim nodes are managed, provided (cleaned through their ramdisk) and deployed. Mid-deploy, one
// conductor's host dies (every process on it SIGKILLed) and another's link is cut (its processes
// keep running). Every node must end active, with each step asked for once and answered, and the
// log and the rack's BMC journal must show no node driven by two conductors at once, and no BMC
// action outside its conductor's lease: the cut conductor stopped before its leases ran out.
// Each conductor host runs its own dnsmasq (ADR 0072): afterwards, with the cut link mended, every
// live host's DHCP answers exactly the MACs of the nodes its conductor held last, and a real DHCP
// client with a taken-over node's MAC gets the new host as next-server, the old one ignoring it.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { StoredEvent } from "../../src/ports/index.ts"
import { auditBmcActions, leaseSegments, type BmcAction } from "./bmc-audit.ts"
import {
  auditLeases, byStream, crash, mac, makeApi, repeatedRequests, spawnIronledger, stopAll, unanswered, waitForOutput, type Proc,
} from "./conductor-harness.ts"
import { fetchFrom } from "../support/netns-fetch.ts"
import { createHosts, leftoverNamespaces, netnsUnavailable, spawnOn, type Hosts } from "../support/netns-hosts.ts"
import { postgresUnavailable, startPostgres, type PostgresServer } from "../support/postgres-server.ts"
import { askDhcp, dhcpClientUnavailable, tftpGet } from "../support/dhcp-client.ts"
import { dhcpHostsOf, dhcpLogOf, dhcpVerdict, lastHolders } from "./multihost-dhcp.ts"

const NODES = 60
const CONDUCTORS = ["c0", "c1", "c2"]
const LEASE_TTL_MS = 4000
const TAG = "ilmh"
const ironledger = resolve(import.meta.dirname, "../../bin/ironledger")
const skip = netnsUnavailable() ?? postgresUnavailable() ?? dhcpClientUnavailable()

let hosts: Hosts | undefined
let server: PostgresServer | undefined
let relay: ReturnType<typeof fetchFrom> | undefined
let dir: string
let store: string
const conductors = new Map<string, Proc>()
let serve: Proc | undefined

before(async () => {
  if (skip !== undefined) return
  dir = mkdtempSync(join(tmpdir(), "ironledger-multihost-"))
  // "pxe": where a test's DHCP client plays a node booting on the provisioning network.
  hosts = createHosts(TAG, ["pg", "api", ...CONDUCTORS, "pxe"])
  const pg = hosts.host("pg")
  server = await startPostgres({ namespace: { name: pg.namespace, address: pg.address, clients: hosts.subnet } })
  store = `${server.url}?schema=multihost&connect_timeout=2`
  // The API's statements time out sooner: with PostgreSQL's link cut, a write fails within ~9 s.
  const apiStore = `${store}&statement_timeout=4000`
  const keyFile = join(dir, "master.key")
  const api = hosts.host("api")
  serve = spawnIronledger("serve", [
    "serve", "--store", apiStore, "--key-file", keyFile, "--state-dir", join(dir, "api"), "--host", api.address, "--port", "6385", "--no-conductor",
  ], {}, [...api.run, ironledger])
  const apiUrl = (await waitForOutput(serve!, /listening on (http:\/\/[\d.]+:\d+)/))[1]!
  assert.equal(apiUrl, `http://${api.address}:6385`)
  await Promise.all(CONDUCTORS.map(async (name, i) => {
    const host = hosts!.host(name)
    // Each host its own DHCP on the provisioning network, from a range of its own.
    const dhcp = ["--dhcp-interface", "eth0", "--dhcp-range", `10.250.0.${100 + 40 * i},10.250.0.${139 + 40 * i}`]
    // Each host its own state dir (TFTP root, image cache); the machines live in the rack.
    const p = spawnIronledger(`conductor ${name}`, [
      "conductor", "--store", store, "--key-file", keyFile, "--state-dir", join(dir, name), "--sim-rack-dir", join(dir, "rack"),
      "--name", name, "--api-url", apiUrl, "--lease-ttl", String(LEASE_TTL_MS), "--sweep", "250", "--deploy-callback-timeout", "60",
      ...dhcp,
    ], {}, [...host.run, ironledger])
    conductors.set(name, p)
    await waitForOutput(p, new RegExp(`conductor ${name} driving nodes`))
  }))
  relay = fetchFrom(hosts.network)
})

after(async () => {
  relay?.close()
  await stopAll()
  hosts?.destroy()
  await server?.destroy()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  if (skip === undefined) assert.deepEqual(leftoverNamespaces(TAG), [])
})

const readLog = async (): Promise<ReadonlyArray<StoredEvent>> => {
  const file = join(dir, "log.jsonl")
  const child = spawnOn(hosts!.host("api"), [process.execPath, join(import.meta.dirname, "../support/dump-log.child.ts"), store, file])
  const code = await new Promise((r) => child.once("exit", r))
  assert.equal(code, 0, "dumping the log")
  return readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as StoredEvent)
}

const readJournal = (): Array<BmcAction> => {
  const file = join(dir, "rack", "bmc.jsonl")
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as BmcAction) : []
}

describe("conductors on three hosts, one PostgreSQL", { skip }, () => {
  test(`${NODES} nodes deployed while one conductor's host dies and another's link is cut`, { timeout: 200_000 }, async () => {
    const api = makeApi(`http://${hosts!.host("api").address}:6385`, relay!.send)
    const uuids: Array<string> = []
    for (let i = 0; i < NODES; i += 10) uuids.push(...await Promise.all(Array.from({ length: 10 }, (_, j) => api.enroll(`mh-${i + j}`, mac(i + j)))))
    await Promise.all(uuids.map((u) => api.provision(u, "manage")))
    await api.settle(uuids, ["manageable"], 60_000)
    await Promise.all(uuids.map((u) => api.provision(u, "provide")))
    await api.settle(uuids, ["available"], 90_000)

    await Promise.all(uuids.map((u) => api.provision(u, "active")))
    // Mid-deploy: a conductor's host dies as soon as it is at work on deploys, then the link of
    // the next one seen at work goes.
    const deployStarted = Date.now()
    const atWork = async (names: ReadonlyArray<string>, since: number) => {
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const busy = readJournal().filter((a) => names.includes(a.by) && a.at > since && a.action.startsWith("boot device"))
        if (busy.length > 0) return busy[busy.length - 1]!.by
      }
      throw new Error(`none of ${names.join(", ")} did deploy work within 30 s`)
    }
    const killed = await atWork(CONDUCTORS, deployStarted)
    hosts!.kill(killed)
    const killedAt = Date.now()
    await crash(conductors.get(killed)!)
    const cut = await atWork(CONDUCTORS.filter((c) => c !== killed), killedAt)
    const cutAt = Date.now()
    hosts!.cut(cut)
    const nodes = await api.settle(uuids, ["active", "deploy failed"], 120_000)
    const log = await readLog()
    const failed = nodes.filter((n) => n["provision_state"] !== "active")
    // What a failed node went through, to tell a lost boot from a lost PXE file.
    const story = (uuid: string) => [
      ...log.filter((e) => e.streamId === `node-${uuid}`).map((e) => ({ at: Date.parse(e.meta.occurredAt), line: `${e.type} by ${e.meta.actor}` })),
      ...readJournal().filter((a) => a.node === uuid).map((a) => ({ at: a.at, line: `BMC ${a.action} by ${a.by}` })),
      ...[serve!, ...conductors.values()].flatMap((p) => p.output().split("\n").filter((l) => l.includes(uuid)).map((l) => {
        const at = /"time":"([^"]+)"/.exec(l)
        return { at: at === null ? 0 : Date.parse(at[1]!), line: `${p.label}: ${l.slice(0, 300)}` }
      })),
    ].sort((a, b) => a.at - b.at).map((x) => `  ${new Date(x.at).toISOString()} ${x.line}`).join("\n")
    assert.deepEqual(failed.map((n) => `${n["name"]}: ${n["last_error"]}`), [],
      `${killed} killed at ${new Date(killedAt).toISOString()}, ${cut} cut at ${new Date(cutAt).toISOString()}\n` +
      failed.map((n) => `${n["name"]}:\n${story(n["uuid"] as string)}`).join("\n"))

    const audit = auditLeases(log)
    assert.deepEqual(audit.violations, [])
    const journal = readJournal()
    assert.deepEqual(auditBmcActions(journal, log), [])
    for (const stream of byStream(log).values()) {
      assert.deepEqual(unanswered(stream), [], stream[0]!.streamId)
      assert.deepEqual(repeatedRequests(stream), [], stream[0]!.streamId)
      assert.ok(stream.some((e) => e.type === "DeployDone"), `${stream[0]!.streamId} has no DeployDone`)
    }
    // The lost hosts held nodes when they went, and those nodes were taken over.
    const segments = leaseSegments(log)
    const heldAt = (name: string, at: number) => [...segments].filter(([, s]) => s.some((g) => g.holder === name && g.from <= at && at < g.until)).map(([node]) => node)
    for (const [name, at] of [[killed, killedAt], [cut, cutAt]] as const) {
      const held = heldAt(name, at)
      assert.ok(held.length > 0, `${name} held no node when it was lost`)
      const last = journal.filter((a) => a.by === name).reduce((m, a) => Math.max(m, a.at), 0)
      const taken = held.filter((node) => segments.get(node)!.some((g) => g.holder !== name && g.from > at))
      console.log(`# ${name}: held ${held.length} nodes when lost, ${taken.length} taken over; its last BMC action ${last - at} ms after`)
    }
    // Nodes taken over with PXE files on a lost host had them written again on the new one.
    const restored = [...conductors.values()].flatMap((p) => p.output().split("\n").filter((l) => l.includes("PXE files written on this host")))
    assert.ok(restored.length > 0, "no conductor wrote a taken-over node's PXE files on its own host")
    console.log(`# ${restored.length} taken-over nodes had their PXE files written again on the new host`)
    // After the cut, it may finish what it began under its leases; how close it came to their end:
    const late = journal.filter((a) => a.by === cut && a.at > cutAt)
    const margins = late.map((a) => Math.min(...segments.get(a.node)!.filter((g) => g.holder === cut && g.from <= a.at && a.at <= g.until).map((g) => g.until - a.at)))
    console.log(`# ${cut} issued ${late.length} BMC commands after its link was cut, the last ${margins.length === 0 ? "-" : Math.min(...margins)} ms before its lease ended (ran out or released); ` +
      `work split ${[...audit.workBy].map(([c, n]) => `${c}: ${n}`).join(", ")}`)

    // DHCP (ADR 0072). The cut host comes back: it catches up with the log and lets go of the
    // nodes others took, so that every live host answers exactly the nodes its conductor held last.
    const dhcpStarted = Date.now()
    hosts!.mend(cut)
    const holders = lastHolders(log)
    const macOf = new Map(uuids.map((u, i) => [u, mac(i)]))
    const live = CONDUCTORS.filter((c) => c !== killed)
    const wanted = (name: string) => new Set(uuids.filter((u) => holders.get(u) === name).map((u) => macOf.get(u)!))
    const mismatch = () => live.map((name) => {
      const has = dhcpHostsOf(join(dir, name)), want = wanted(name)
      const extra = [...has].filter((m) => !want.has(m)), missing = [...want].filter((m) => !has.has(m))
      return extra.length + missing.length === 0 ? "" : `${name}: answers ${extra.length} MACs of nodes others hold last (${extra.join(" ")}), misses ${missing.length} of its own (${missing.join(" ")})`
    }).filter((l) => l !== "")
    for (const deadline = Date.now() + 20_000; mismatch().length > 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 200))
    assert.deepEqual(mismatch(), [])
    const withoutDhcp = uuids.filter((u) => holders.get(u) === killed)
    console.log(`# DHCP hosts in step ${Date.now() - dhcpStarted} ms after ${cut}'s link came back: ` +
      `${live.map((n) => `${n} ${wanted(n).size}`).join(", ")}; ${withoutDhcp.length} nodes last held by the dead ${killed} have no DHCP answer until taken again`)

    // A real DHCP client as a node taken over from each lost host: the new host answers as
    // next-server with the boot file; the others, the mended old one included, ignore the MAC.
    const address = (name: string) => hosts!.host(name).address
    for (const lost of [cut, killed]) {
      const lostAt = lost === cut ? cutAt : killedAt
      const node = heldAt(lost, lostAt).find((u) => live.includes(holders.get(u)!) && holders.get(u) !== lost)
      assert.ok(node !== undefined, `a node of ${lost} taken over by a live host`)
      const holder = holders.get(node)!, nodeMac = macOf.get(node)!
      const marks = new Map(live.map((name) => [name, dhcpLogOf(join(dir, name)).length]))
      const asked = Date.now()
      const answer = await askDhcp(hosts!.host("pxe"), nodeMac)
      assert.ok(answer !== null, `no DHCP answer for ${nodeMac} (node ${node}, last held by ${holder})`)
      assert.deepEqual({ serverId: answer.serverId, nextServer: answer.nextServer, bootFile: answer.bootFile },
        { serverId: address(holder), nextServer: address(holder), bootFile: "pxelinux.0" }, `node ${node} taken from ${lost}`)
      // What its firmware fetches next is there: the node's PXE config, from the new host.
      const config = await tftpGet(hosts!.host("pxe"), answer.address, answer.nextServer, `pxelinux.cfg/01-${nodeMac.replaceAll(":", "-")}`)
      assert.ok(config?.includes(`${node}/`), `the PXE config of ${node} over TFTP from ${answer.nextServer}: ${config}`)
      for (const other of live.filter((n) => n !== holder)) {
        const verdict = dhcpVerdict(dhcpLogOf(join(dir, other)).slice(marks.get(other)!), nodeMac)
        assert.deepEqual(verdict, { ignored: true, offered: false }, `${other}'s dnsmasq on ${nodeMac}`)
      }
      console.log(`# node of ${lost} taken by ${holder}: DHCP answer from ${answer.serverId}, next-server ${answer.nextServer}, ` +
        `boot file ${answer.bootFile}, address ${answer.address}, in ${Date.now() - asked} ms; ${live.filter((n) => n !== holder).join(", ")} ignored it`)
    }
  })

  test("the API answers 503 soon when PostgreSQL's link is cut (not refused: no answer at all)", { timeout: 30_000 }, async () => {
    const api = makeApi(`http://${hosts!.host("api").address}:6385`, relay!.send)
    const listed = (await api.ok("GET", "/v1/nodes"))["nodes"] as Array<{ uuid: string }>
    const node = listed[0]!.uuid
    hosts!.cut("pg")
    const started = Date.now()
    const r = await api.call("PATCH", `/v1/nodes/${node}`, [{ op: "add", path: "/extra/probe", value: "cut" }])
    const took = Date.now() - started
    console.log(`# a write with PostgreSQL's link cut: ${r.status} in ${took} ms`)
    assert.equal(r.status, 503, JSON.stringify(r.body))
    assert.ok(took < 12_000, `503 after ${took} ms`)
  })
})
