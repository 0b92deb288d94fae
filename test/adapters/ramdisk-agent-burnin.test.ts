// The ramdisk agent's burn-in steps (src/adapters/ramdisk/agent/burnin.sh) under the real busybox,
// with the real tools bundle (Debian's stress-ng, memtester, fio and their libraries) registered in
// a service's state dir and fetched by the agent over the service's HTTP API, sha256-checked; fio
// runs on a loop device. Checks the tools' own figures in what each step prints, and that a bad
// argument fails the step with its message. Needs root (losetup); the first bundle build downloads
// the packages (cached beside the ramdisk's, shared with the VM tests: one build at a time, ADR 0135).
import { execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import { buildToolsBundle } from "../../src/adapters/ramdisk/tools/bundle.ts"
import { registerToolsBundle } from "../../src/adapters/ramdisk/tools/register.ts"
import { startTestService, type TestService } from "./http-harness.ts"

const skip = process.getuid?.() === 0 ? false : "needs root (losetup)"
const agentDir = resolve(import.meta.dirname, "../../src/adapters/ramdisk/agent")
const cacheDir = process.env["IRONLEDGER_RAMDISK_CACHE"] ?? join(tmpdir(), "ironledger-ramdisk-cache")
const work = mkdtempSync(join(tmpdir(), "ironledger-agent-burnin-"))
let loop = ""
let svc: TestService | null = null

before(async () => {
  if (skip) return
  const stateDir = join(work, "state")
  const t0 = performance.now()
  // Two builds on one cache (as a VM test's beside this one): one builds, the other waits for it.
  const [bundle, twin] = await Promise.all([buildToolsBundle({ cacheDir }), buildToolsBundle({ cacheDir })])
  process.stdout.write(`# tools bundle ${bundle.cached && twin.cached ? "from the cache" : "built"}: ${bundle.bytes} bytes, ${bundle.packages.length} packages, ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  assert.equal(twin.sha256, bundle.sha256)
  assert.ok(bundle.cached || twin.cached, "the bundle was built twice")
  await registerToolsBundle(join(stateDir, "images"), bundle)
  svc = await startTestService({ stateDir })
  const disk = join(work, "disk.img")
  execFileSync("truncate", ["-s", "64M", disk])
  loop = execFileSync("losetup", ["-f", "--show", disk], { encoding: "utf8" }).trim()
  const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim()
  mkdirSync(join(work, "bin"))
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => /^[a-z0-9_.-]+$/.test(a))) {
    symlinkSync(busybox, join(work, "bin", applet))
  }
}, { timeout: 900_000 })
after(async () => {
  if (loop !== "") execFileSync("losetup", ["-d", loop])
  await svc?.close()
  rmSync(work, { recursive: true, force: true })
})

/** Runs one step as the agent's run_step does; its printed lines and status. Asynchronous: the service answers in this process. */
const runStep = async (name: string, answer: Record<string, unknown>) => {
  const file = join(work, "run.sh")
  writeFileSync(file, [
    'log() { echo "agent: $*" >&2; }', `. ${join(agentDir, "steps.sh")}`, `. ${join(agentDir, "burnin.sh")}`,
    `list_disks() { echo "${loop.replace("/dev/", "")} 0 - -"; }`, "mkdir -p /run", `run_step "$1" "$2"`,
  ].join("\n"))
  const child = spawn(join(work, "bin", "sh"), [file, name, JSON.stringify(answer)], {
    env: { PATH: join(work, "bin"), API_URL: svc!.url, TOOLS: join(work, "tools") }, stdio: ["ignore", "pipe", "pipe"],
  })
  let stdout = "", stderr = ""
  child.stdout.on("data", (d) => { stdout += d }); child.stderr.on("data", (d) => { stderr += d })
  const status = await new Promise<number | null>((ok) => child.once("close", ok))
  const [summary = "", details = "{}"] = stdout.split("\n")
  return { status, summary, details: JSON.parse(details || "{}") as Record<string, any>, stderr }
}

test("burn-in steps fetch the tools bundle and record stress-ng's bogo ops, memtester's passes and fio's IOPS", { skip, timeout: 600_000 }, async () => {
  const cpu = await runStep("deploy.burnin_cpu", { name: "deploy.burnin_cpu", args: { agent_burnin_cpu_timeout: 2, agent_burnin_cpu_cpu: 1 } })
  assert.equal(cpu.status, 0, cpu.stderr)
  // stress-ng measures its own run: a 2 s timeout may report 1.99 s.
  assert.match(cpu.summary, /^stress-ng cpu: \d+ bogo ops in (1\.9\d|2\.\d+) s on 1 CPU\(s\)$/)
  assert.ok(cpu.details["bogo_ops"] > 0, JSON.stringify(cpu.details))
  assert.match(cpu.stderr, /tools bundle [0-9a-f]{64} unpacked/)
  assert.equal(readFileSync(join(work, "tools", ".complete"), "utf8"), "")

  const mem = await runStep("deploy.burnin_memory", { args: { agent_burnin_vm_timeout: 1, "agent_burnin_vm_vm-bytes": "2M" } })
  assert.equal(mem.status, 0, mem.stderr)
  assert.match(mem.summary, /^memtester: \d+ pass\(es\) over 2M, no failures$/)
  assert.ok(mem.details["passes"] >= 1)

  const disk = await runStep("deploy.burnin_disk", { args: { agent_burnin_fio_disk_runtime: 2 } })
  assert.equal(disk.status, 0, disk.stderr)
  assert.match(disk.summary, /^fio on 1 disk\(s\): loop\d+ read \d+ IOPS, write \d+ IOPS$/)
  assert.ok(disk.details["disks"][0]["write_iops"] > 0, JSON.stringify(disk.details))

  const bad = await runStep("deploy.burnin_cpu", { args: { agent_burnin_cpu_timeout: "soon" } })
  assert.notEqual(bad.status, 0)
  assert.match(bad.stderr, /agent_burnin_cpu_timeout must be a whole number of seconds, not "soon"/)
})
