// The CLI as people use it, against a real `ironledger serve` (SQLite, fake-hardware and sim nodes):
// global options anywhere, --json from every command that has output, a pipe into `head`, errors
// in the user's own words, and the --wait progress off and on a terminal (a real pty, via script).
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { commands } from "../../src/cli/main.ts"
import { startServeProcess, type ServeProcess } from "../support/serve-process.ts"

const root = resolve(import.meta.dirname, "../..")
const ironledger = join(root, "bin/ironledger")
const node = join(root, "node_modules/.bin/node")

let dir: string
let db: string
let url: string
let server: ServeProcess | undefined

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

const exec = (file: string, args: ReadonlyArray<string>, input?: string, timeoutMs = 120_000): Promise<Run> =>
  new Promise((resolveRun) => {
    const child = execFile(file, args, { env: { ...process.env, HOME: dir }, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolveRun({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 128, stdout, stderr }))
    if (input !== undefined) child.stdin!.end(input)
  })
const il = (...args: Array<string>) => exec(ironledger, args)

const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { "X-OpenStack-Ironic-API-Version": "1.78", "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`)
  return (text === "" ? undefined : JSON.parse(text)) as T
}

const enroll = async (name: string, driver: string, mac: string) => {
  const n = await api<{ uuid: string }>("POST", "/v1/nodes", { name, driver, properties: { cpus: 2, memory_mb: 2048, local_gb: 10 } })
  const p = await api<{ uuid: string }>("POST", "/v1/ports", { address: mac, node_uuid: n.uuid })
  return { uuid: n.uuid, port: p.uuid }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "ironledger-cli-"))
  db = join(dir, "ironledger.db")
  server = await startServeProcess(["--db", db, "--notary-interval", "1"])
  url = server.url
})

after(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Commands that run until a signal and write logs, not output; or take minutes by design. */
const noOutputToCheck: Record<string, string> = {
  serve: "runs until a signal; its output is the log",
  conductor: "runs until a signal; its output is the log",
  "ramdisk build": "builds from Debian packages (minutes, network); it prints through record(), which honours --json",
  abort: "needs a node held in a wait state; it prints through the same code as every other provisioning verb",
}

describe("ironledger's command line", () => {
  test("global options are taken before or after the command, and --help needs no service", async () => {
    await enroll("g1", "fake-hardware", "52:54:00:c1:00:01")
    const before = await il("--url", url, "--json", "node", "show", "g1")
    const afterIt = await il("node", "show", "g1", "--json", "--url", url)
    const between = await il("node", "--json", "show", "--url", url, "g1")
    for (const r of [before, afterIt, between]) assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(before.stdout).name, "g1")
    assert.equal(afterIt.stdout, before.stdout)
    assert.equal(between.stdout, before.stdout)
    const help = await il("deploy", "--help", "--url", "http://127.0.0.1:1")
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^Usage: ironledger deploy NODE \[--wait \[SECONDS\]\]/)
    assert.match(help.stdout, /Examples:\n {2}\$ ironledger deploy rack1-07/)
    const typo = await il("node", "list", "--provision-sate", "active", "--url", url)
    assert.equal(typo.code, 2)
    assert.match(typo.stderr, /^ironledger: unknown option '--provision-sate'/)
  })

  test("every command that has output writes JSON with --json", { timeout: 300_000 }, async () => {
    const w1 = await enroll("w1", "fake-hardware", "52:54:00:c1:01:01")
    const spare = await api<{ uuid: string }>("POST", "/v1/ports", { address: "52:54:00:c1:01:02", node_uuid: w1.uuid })
    await enroll("w2", "fake-hardware", "52:54:00:c1:02:01")
    const csv = join(dir, "rack.csv")
    writeFileSync(csv, "name,macs,cpus\nw3,52:54:00:c1:03:01,4\n")
    const secrets = join(dir, "w1.secrets")
    writeFileSync(secrets, "ipmi_password=s3cret\n")
    const password = join(dir, "rescue.pass")
    writeFileSync(password, "rescue-me\n")
    const now = new Date().toISOString()
    // An available node whose properties a flavor matches, for the instance commands.
    await enroll("w5", "fake-hardware", "52:54:00:c1:0a:01")
    await api("PATCH", "/v1/nodes/w5", [
      { op: "add", path: "/properties/cpus", value: 2 }, { op: "add", path: "/properties/memory_mb", value: 2048 },
      { op: "add", path: "/properties/local_gb", value: 10 },
    ])
    const instance = "5f0c1d5e-8a31-4c55-9a43-77c2f0a1b2c3"
    const cases: Array<Array<string>> = [
      ["node", "enroll", "--driver", "fake-hardware", "--name", "w4"],
      ["node", "list"], ["node", "show", "w1"], ["node", "set", "w1", "--extra", "rack=r1", "--secrets-file", secrets],
      ["node", "unset", "w1", "--extra", "rack"], ["node", "validate", "w1"], ["node", "import", csv],
      ["port", "add", "52:54:00:c1:04:01", "--node", "w4"], ["port", "list", "--node", "w1"], ["port", "show", w1.port],
      ["port", "delete", spare.uuid],
      ["manage", "w1"], ["provide", "w1", "--wait", "60"], ["deploy", "w1", "--wait", "60"], ["rebuild", "w1", "--wait", "60"],
      ["rescue", "w1", "--rescue-password-file", password, "--wait", "60"], ["unrescue", "w1", "--wait", "60"],
      ["power", "off", "w1"], ["maintenance", "set", "w1", "--reason", "fan"], ["maintenance", "unset", "w1"],
      ["undeploy", "w1", "--wait", "60"], ["manage", "w2", "--wait", "60"], ["inspect", "w2", "--wait", "60"],
      ["clean", "w2", "--steps", "bios.factory_reset", "--wait", "60"], ["adopt", "w2", "--wait", "60"],
      ["history", "w1"], ["history", "w1", "--db", db, "--hide-noise"], ["state", "w1", "--at", now], ["state", "w1", "--at", now, "--db", db],
      ["replay", "--db", db], ["fleet"], ["fleet", "--db", db], ["verify", "--db", db], ["checkpoints", "--db", db, "--out", join(dir, "cp.jsonl")],
      ["checkpoints", "--db", db],
      ["migrate", "--from", `sqlite:${db}`, "--to", `sqlite:${join(dir, "copy.db")}`],
      ["certify", "--driver", "fake-hardware"], ["node", "delete", "w4"],
      ["manage", "w5", "--wait", "60"], ["provide", "w5", "--wait", "60"],
      ["instance", "spawn", "--flavor", "cpus=1,memory_mb=1024,local_gb=5", "--image", "http://images.example/web.qcow2", "--node", "w5", "--uuid", instance, "--wait", "60"],
      ["instance", "list"], ["instance", "show", instance], ["instance", "reboot", instance], ["resources"],
      ["instance", "rebuild", instance, "--wait", "60"], ["instance", "history", instance], ["instance", "destroy", instance, "--wait", "60"],
    ]
    // export streams into process.stdout itself: it runs as its own process below.
    const exported: Array<string> = ["export", "--db", db, "--node", "w1"]
    const covered = new Set([...cases, exported].map((c) => commands.find((k) => k.words.every((w, i) => c[i] === w))!.words.join(" ")))
    const missing = commands.map((c) => c.words.join(" ")).filter((n) => !covered.has(n) && noOutputToCheck[n] === undefined)
    assert.deepEqual(missing, [], "a command has no --json case here: add one")
    const batch = await exec(node, [join(root, "test/support/cli-batch.ts")],
      JSON.stringify(cases.map((c) => [...c, "--json", "--url", url])), 240_000)
    assert.equal(batch.code, 0, batch.stderr)
    const results = JSON.parse(batch.stdout) as Array<{ argv: Array<string>; code: number; stdout: string; stderr: string }>
    for (const r of results) {
      const what = r.argv.slice(0, 3).join(" ")
      assert.equal(r.code, 0, `${what}: ${r.stderr}`)
      assert.notEqual(r.stdout.trim(), "", `${what} wrote nothing with --json`)
      // One JSON document, or JSON lines (export, checkpoints: the log's own interchange format).
      const lines = r.argv[0] === "checkpoints" && !r.argv.includes("--out") ? r.stdout.trimEnd().split("\n") : [r.stdout]
      for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `${what} wrote something other than JSON: ${r.stdout.slice(0, 300)}`)
      assert.ok(!/\r|\x1b\[/.test(r.stdout), `${what}: progress leaked into stdout`)
    }
    const jsonl = await il(...exported, "--json")
    assert.equal(jsonl.code, 0, jsonl.stderr)
    const events = jsonl.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { type: string; hash: string | null })
    assert.ok(events.some((e) => e.type === "DeployDone") && events.every((e) => typeof e.hash === "string"))
    const byName = (argv0: string, argv1?: string) => JSON.parse(results.find((r) => r.argv[0] === argv0 && (argv1 === undefined || r.argv[1] === argv1))!.stdout)
    assert.equal(byName("deploy").provision_state, "active")
    assert.deepEqual(byName("node", "delete"), [{ node: "w4", deleted: true }])
    assert.equal(byName("power").name, "w1")
    assert.equal(byName("node", "import")[0].name, "w3")
  })

  test("piping into head ends quietly, without a stack trace", { timeout: 120_000 }, async () => {
    // More than a pipe buffer (64 KiB) of output, so the writer meets the closed pipe.
    for (let i = 0; i < 40; i++) await api("POST", "/v1/nodes", { driver: "fake-hardware", name: `bulk-${i}`, extra: { note: "x".repeat(400) } })
    const sh = (line: string) => exec("/bin/bash", ["-c", `set -o pipefail; ${line}; echo "status \${PIPESTATUS[0]}" >&2`])
    for (const line of [
      `'${ironledger}' node list --long --json --url ${url} | head -c 200 >/dev/null`,
      `'${ironledger}' export --db '${db}' | head -n 1 >/dev/null`,
    ]) {
      const r = await sh(line)
      assert.match(r.stderr, /status 0\n$/, line)
      assert.ok(!/Error|at .*\.ts:\d+|node:internal/.test(r.stderr), `${line}: ${r.stderr}`)
    }
  })

  test("errors name the node as the user typed it", async () => {
    await enroll("typed-1", "fake-hardware", "52:54:00:c1:05:01")
    const r = await il("provide", "typed-1", "--url", url)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^ironledger: The requested action "provide" can not be performed on node "typed-1" while it is in state "enroll"/)
    assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-/.test(r.stderr), r.stderr)
    const missing = await il("node", "show", "no-such-node", "--url", url)
    assert.match(missing.stderr, /Node no-such-node could not be found/)
  })

  test("--wait: a plain line per state off a terminal, a live line with the deadlines on one", { timeout: 240_000 }, async () => {
    await enroll("wait-1", "sim", "52:54:00:c1:06:01")
    await enroll("wait-2", "sim", "52:54:00:c1:06:02")
    const manage = await il("manage", "wait-1", "--wait", "120", "--url", url)
    assert.equal(manage.code, 0, manage.stderr)
    assert.match(manage.stderr, /^\[\d+\.\ds\] wait-1: (verifying|manageable); --wait deadline \d\d:\d\d:\d\dZ, in \d/m)
    const provide = await il("provide", "wait-1", "--wait", "120", "--url", url)
    assert.equal(provide.code, 0, provide.stderr)
    assert.ok(!provide.stderr.includes("\r"), "no live line off a terminal")
    const lines = provide.stderr.trimEnd().split("\n")
    assert.match(lines.at(-1)!, /^wait-1 is available$/)
    for (const l of lines.slice(0, -1)) assert.match(l, /^\[\d+\.\ds\] wait-1: .*--wait deadline/)
    // The sim ramdisk's clean wait is short; when the poll sees it, the service's deadline is shown.
    for (const l of lines.filter((x) => /-> clean wait/.test(x))) assert.match(l, /service deadline \d\d:\d\d:\d\dZ, in \d+m\d\ds; --wait/)
    // On a terminal (script gives the CLI a pty): the live line is redrawn in place.
    await il("manage", "wait-2", "--wait", "120", "--url", url)
    const tty = await exec("/usr/bin/script", ["-qfec", `'${ironledger}' provide wait-2 --wait 120 --url ${url}`, "/dev/null"])
    assert.equal(tty.code, 0, tty.stdout)
    const live = [...tty.stdout.matchAll(/\r\x1b\[K(wait-2: [^\r\n]+)/g)].map((m) => m[1]!)
    assert.ok(live.length >= 2, `no live line: ${JSON.stringify(tty.stdout)}`)
    for (const l of live) assert.match(l, /^wait-2: [a-z -]+ for \d+\.\ds, \d+\.\ds in all; .*--wait deadline \d\d:\d\d:\d\dZ, in \d/)
    assert.match(tty.stdout, /wait-2 is available/)
  })
})
