// A conductor process SIGKILLed mid-deploy, at several points of the saga, then restarted under the
// same name or replaced by another conductor once its leases ran out: every node ends active or
// cleanly failed ("deploy failed", the reason in its history, powered off, PXE config removed),
// none stuck in an -ing or wait state, no request left without its result.
// The crash point is exact: IRONLEDGER_TEST_DIE_AFTER_EVENT makes the test's conductor (test/support/crashing-conductor.ts) SIGKILL itself
// right after it appended an event of that type. One API process (its own conductor off) serves
// every scenario; each scenario has its own nodes, brought to available beforehand.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { StoredEvent } from "../../src/ports/index.ts"
import { DIE_AFTER_EVENT } from "../support/crashing-conductor.ts"
import {
  auditLeases, byStream, mac, makeApi, readLog, repeatedRequests, startApi, startConductor, stop, stopAll, unanswered,
  type Json, type Proc,
} from "./conductor-harness.ts"

const LEASE_MS = 2000
const CALLBACK_TIMEOUT_S = 10
const NODES_PER_SCENARIO = 3
const DIE_AFTER = DIE_AFTER_EVENT

let dir: string
let db: string
let apiUrl: string
let api: ReturnType<typeof makeApi>
const nodesOf = new Map<string, Array<string>>()

const scenarios = ["power-on", "pxe", "wait", "ramdisk-outlives", "image", "reboot"]

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-crash-"))
  db = join(dir, "ironledger.db")
  const server = await startApi(db)
  apiUrl = server.url
  api = makeApi(apiUrl)
  // One conductor brings every scenario's nodes to available, then leaves.
  const prep = await startConductor(db, "prep", apiUrl, { leaseTtlMs: LEASE_MS })
  let i = 0
  for (const s of scenarios) {
    const uuids: Array<string> = []
    for (let n = 0; n < NODES_PER_SCENARIO; n++, i++) uuids.push(await api.enroll(`${s}-${n}`, mac(0x100 + i)))
    nodesOf.set(s, uuids)
  }
  const all = [...nodesOf.values()].flat()
  await Promise.all(all.map((u) => api.provision(u, "manage")))
  await api.settle(all, ["manageable"], 60_000)
  await Promise.all(all.map((u) => api.provision(u, "provide")))
  await api.settle(all, ["available"], 60_000)
  await stop(prep)
})

after(async () => {
  await stopAll()
  rmSync(dir, { recursive: true, force: true })
})

const conductor = (name: string, dieAfter?: string) =>
  startConductor(db, name, apiUrl, {
    leaseTtlMs: LEASE_MS, sweepMs: 200, callbackTimeoutS: CALLBACK_TIMEOUT_S,
    ...(dieAfter === undefined ? {} : { env: { [DIE_AFTER]: dieAfter } }),
  })

/** Waits (bounded) for a conductor to kill itself at its crash point. */
const diesOnItsOwn = async (p: Proc, ms = 30_000) => {
  const timer = new Promise<"alive">((r) => setTimeout(() => r("alive"), ms).unref())
  const how = await Promise.race([p.exited, timer])
  assert.equal(how, "SIGKILL", `${p.label} should have killed itself (${how}): ${p.output()}`)
}

const streamOf = (log: ReadonlyArray<StoredEvent>, uuid: string) => byStream(log).get(`node-${uuid}`) ?? []

/** Nodes whose last event by `actor` is of type `type`: the ones the crash caught at that point. */
const caughtAt = (log: ReadonlyArray<StoredEvent>, uuids: ReadonlyArray<string>, actor: string, type: string) =>
  uuids.filter((u) => streamOf(log, u).filter((e) => e.meta.actor === actor).at(-1)?.type === type)

const answered = (stream: ReadonlyArray<StoredEvent>, request: StoredEvent) =>
  stream.some((e) => e.revision > request.revision && (e.data as { step?: unknown }).step === (request.data as { step: string }).step)

/** The node is done: DeployDone, or a failure followed by the clean-up (power off, PXE config removed), nothing pending. */
const finished = (stream: ReadonlyArray<StoredEvent>): boolean => {
  if (unanswered(stream).length > 0) return false
  const last = stream.findLast((e) => e.type === "DeployDone" || e.type === "DeployFailed" || e.type === "WaitTimedOut")
  if (last === undefined) return false
  if (last.type === "DeployDone") return true
  const after = stream.filter((e) => e.revision > last.revision)
  const powerOff = after.find((e) => e.type === "PowerOffRequested")
  const pxeRemove = after.find((e) => e.type === "BootConfigRequested" && (e.data as { label: unknown }).label === null)
  return powerOff !== undefined && pxeRemove !== undefined && answered(stream, powerOff) && answered(stream, pxeRemove)
}

/** Polls the log until every node is finished; fails after `ms` naming the unfinished ones. */
const settled = async (uuids: ReadonlyArray<string>, ms: number) => {
  const deadline = Date.now() + ms
  for (;;) {
    const log = await readLog(db)
    const open = uuids.filter((u) => !finished(streamOf(log, u)))
    if (open.length === 0) return log
    if (Date.now() > deadline) {
      const states = await Promise.all(open.map(async (u) => { const n = await api.node(u); return `${n["name"]}=${n["provision_state"]} (${n["last_error"]}; pending ${unanswered(streamOf(log, u)).join(", ") || "none"})` }))
      assert.fail(`not finished after ${ms} ms: ${states.join("; ")}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

const tftp = (...parts: ReadonlyArray<string>) => join(`${db}.disks`, "tftp", ...parts)
const linkOf = (m: string) => tftp("pxelinux.cfg", `01-${m.replace(/:/g, "-")}`)

/** Active with its PXE config on the boot label, or cleanly failed, with the reason in the history. */
const assertActiveOrCleanlyFailed = async (uuid: string, log: ReadonlyArray<StoredEvent>) => {
  const node = await api.node(uuid)
  const state = node["provision_state"]
  assert.equal(node["target_provision_state"], null, `${node["name"]} is still heading somewhere`)
  assert.deepEqual(unanswered(streamOf(log, uuid)), [], `${node["name"]} has requests without a result`)
  assert.deepEqual(repeatedRequests(streamOf(log, uuid)), [], `${node["name"]}: a step was asked for twice`)
  const macs = ((await api.ok("GET", `/v1/ports?node_uuid=${uuid}`))["ports"] as Array<Json>).map((p) => p["address"] as string)
  if (state === "active") {
    assert.equal(node["power_state"], "power on")
    assert.match(readFileSync(tftp(uuid, "config"), "utf8"), /^default boot$/m, `${node["name"]} would not boot its image`)
    return node
  }
  assert.equal(state, "deploy failed", `${node["name"]} is ${state}`)
  assert.ok(typeof node["last_error"] === "string" && node["last_error"] !== "", `${node["name"]} failed without a reason`)
  assert.equal(node["power_state"], "power off")
  assert.ok(!existsSync(tftp(uuid, "config")), `${node["name"]}'s PXE config is still there`)
  for (const m of macs) assert.ok(!existsSync(linkOf(m)), `${node["name"]}'s MAC link ${m} is still there`)
  const history = await api.history(uuid)
  // The reason, as the history shows it: the deploy's failure with its error, or the wait that ran out.
  const failure = history.findLast((h) => h["type"] === "DeployFailed" || h["type"] === "WaitTimedOut")
  assert.ok(failure !== undefined, `${node["name"]}: no failure in the history`)
  assert.match(String(failure["event"]), failure["type"] === "WaitTimedOut" ? /^no call-back before / : /^deploy failed: ./)
  return node
}

interface Scenario {
  readonly name: string
  readonly dieAfter: string
  /** Who carries on: the same conductor restarted, or another once the leases ran out. */
  readonly restart: "same name" | "another conductor"
  /** What the nodes caught at the crash point must end as. */
  readonly caughtEnd: "active" | RegExp
  /** The successor is killed too, right after this event, then restarted under its name. */
  readonly successorDiesAfter?: string
}

/** Asserts the crash caught nodes right after `type` (a request then has no result) and returns them. */
const assertCaught = (log: ReadonlyArray<StoredEvent>, uuids: ReadonlyArray<string>, actor: string, type: string) => {
  const caught = caughtAt(log, uuids, actor, type)
  assert.ok(caught.length > 0, `no node was caught right after ${type} by ${actor}`)
  if (type.endsWith("Requested")) {
    for (const u of caught) assert.ok(unanswered(streamOf(log, u)).some((p) => p.startsWith(type)), `${u}: ${type} already answered`)
  }
  return caught
}

const runScenario = async (s: Scenario) => {
  const uuids = nodesOf.get(s.name)!
  const victim = `victim-${s.name}`
  const successor = s.restart === "same name" ? victim : `successor-${s.name}`
  const procs: Array<Proc> = []
  let caught: ReadonlyArray<string>
  let log: ReadonlyArray<StoredEvent>
  try {
    const k = await conductor(victim, s.dieAfter)
    procs.push(k)
    await Promise.all(uuids.map((u) => api.provision(u, "active")))
    await diesOnItsOwn(k)
    caught = assertCaught(await readLog(db), uuids, victim, s.dieAfter)
    const next = await conductor(successor, s.successorDiesAfter)
    procs.push(next)
    if (s.successorDiesAfter !== undefined) {
      await diesOnItsOwn(next)
      assertCaught(await readLog(db), uuids, successor, s.successorDiesAfter)
      procs.push(await conductor(successor))
    }
    log = await settled(uuids, 60_000)
  } finally {
    // Whatever happened, this scenario's conductors must not drive the next one's nodes.
    await Promise.all(procs.map((p) => stop(p)))
  }

  for (const u of uuids) {
    const node = await assertActiveOrCleanlyFailed(u, log)
    if (caught.includes(u)) {
      if (s.caughtEnd === "active") assert.equal(node["provision_state"], "active", `${node["name"]} (caught) failed: ${node["last_error"]}`)
      else assert.match(String(node["last_error"]), s.caughtEnd, `${node["name"]} (caught)`)
    }
  }
  if (s.restart === "another conductor") {
    // The successor finished what the victim left, without touching the victim's nodes early.
    for (const u of caught) assert.ok(streamOf(log, u).some((e) => e.meta.actor === successor), `${successor} never drove ${u}`)
  }
  assert.deepEqual(auditLeases(log).violations, [])
}

describe("a conductor killed mid-deploy", () => {
  test("after PowerOnRequested, before its result; restarted under the same name: the power-on is carried out again, the nodes deploy", { timeout: 120_000 }, async () => {
    await runScenario({ name: "power-on", dieAfter: "PowerOnRequested", restart: "same name", caughtEnd: "active" })
  })

  test("after BootConfigRequested; another conductor takes over once the lease ran out: the nodes deploy", { timeout: 120_000 }, async () => {
    await runScenario({ name: "pxe", dieAfter: "BootConfigRequested", restart: "another conductor", caughtEnd: "active" })
  })

  test("on entering wait call-back, before the power-on; another conductor takes over: the nodes deploy", { timeout: 120_000 }, async () => {
    await runScenario({ name: "wait", dieAfter: "CallbackAwaited", restart: "another conductor", caughtEnd: "active" })
  })

  test("in wait call-back after the power-on: the ramdisks outlive the conductor that booted them; the successor, killed after asking to release them and restarted, deploys the nodes", { timeout: 120_000 }, async () => {
    // A sim ramdisk boot is a file in the shared state directory that any process delivers when
    // due, as a real machine's ramdisk goes on booting whoever powered it on. The successor dies
    // right after asking for the release; restarted under its name, it carries the release out again.
    await runScenario({
      name: "ramdisk-outlives", dieAfter: "PowerStateChanged", restart: "another conductor",
      caughtEnd: "active", successorDiesAfter: "RamdiskReleaseRequested",
    })
  })

  test("after ImageWriteRequested (past the call-back); another conductor takes over: the nodes deploy", { timeout: 120_000 }, async () => {
    await runScenario({ name: "image", dieAfter: "ImageWriteRequested", restart: "another conductor", caughtEnd: "active" })
  })

  test("after the last RebootRequested; restarted under the same name: the nodes end active", { timeout: 120_000 }, async () => {
    await runScenario({ name: "reboot", dieAfter: "RebootRequested", restart: "same name", caughtEnd: "active" })
  })
})
