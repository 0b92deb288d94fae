// Conductors on several hosts (issue 14): PostgreSQL, an API and three conductors, each on a host
// of its own (a network namespace made here), joined by a bridge in a namespace of its own; the
// test talks to the API from the bridge's namespace too, never through the machine's own network.
// 60 sim nodes are managed, provided (cleaned through their ramdisk) and deployed. Mid-deploy, one
// conductor's host dies (every process on it SIGKILLed) and another's link is cut (its processes
// keep running). Every node must end active, with each step asked for once and answered, and the
// log and the rack's BMC journal must show no node driven by two conductors at once, and no BMC
// action outside its conductor's lease: the cut conductor stopped before its leases ran out.
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

const NODES = 60
const CONDUCTORS = ["c0", "c1", "c2"]
const LEASE_TTL_MS = 4000
const TAG = "ilmh"
const ironledger = resolve(import.meta.dirname, "../../bin/ironledger")
const skip = netnsUnavailable() ?? postgresUnavailable()

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
  hosts = createHosts(TAG, ["pg", "api", ...CONDUCTORS])
  const pg = hosts.host("pg")
  server = await startPostgres({ namespace: { name: pg.namespace, address: pg.address, clients: hosts.subnet } })
  store = `${server.url}?schema=multihost&connect_timeout=2`
  const keyFile = join(dir, "master.key")
  const api = hosts.host("api")
  serve = spawnIronledger("serve", [
    "serve", "--store", store, "--key-file", keyFile, "--state-dir", join(dir, "api"), "--host", api.address, "--port", "6385", "--no-conductor",
  ], {}, [...api.run, ironledger])
  const apiUrl = (await waitForOutput(serve!, /listening on (http:\/\/[\d.]+:\d+)/))[1]!
  assert.equal(apiUrl, `http://${api.address}:6385`)
  await Promise.all(CONDUCTORS.map(async (name) => {
    const host = hosts!.host(name)
    // Each host its own state dir (TFTP root, image cache); the machines live in the rack.
    const p = spawnIronledger(`conductor ${name}`, [
      "conductor", "--store", store, "--key-file", keyFile, "--state-dir", join(dir, name), "--sim-rack-dir", join(dir, "rack"),
      "--name", name, "--api-url", apiUrl, "--lease-ttl", String(LEASE_TTL_MS), "--sweep", "250", "--deploy-callback-timeout", "60",
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
  test(`${NODES} nodes deployed while one conductor's host dies and another's link is cut`, { timeout: 170_000 }, async () => {
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
  })
})
