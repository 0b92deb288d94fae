// The ramdisk agent's in-band cleaning steps (src/adapters/ramdisk/agent/steps.sh) under the real
// busybox, on two real block devices erased at once (loop devices over files of random bytes:
// one of whole 4 MiB blocks and a tail, one smaller than a block and not a whole number of MiB),
// against an HTTP server speaking the service's side of the step calls: it waits once, hands out
// erase_devices_metadata then erase_devices, and answers 404 after. Checks the posted outcomes and
// that every byte of both devices is zero. Needs root (losetup).
import { execFileSync, spawn } from "node:child_process"
import { closeSync, mkdirSync, mkdtempSync, symlinkSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { createServer } from "node:http"
import { randomBytes } from "node:crypto"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"

const isRoot = process.getuid?.() === 0
const skip = isRoot ? false : "needs root (losetup)"
const agentDir = resolve(import.meta.dirname, "../../src/adapters/ramdisk/agent")
const SIZES = [9 * 1024 * 1024 + 512, 3 * 1024 * 1024 + 512]
const TOTAL = SIZES.reduce((a, b) => a + b)
const KEY = 'k"ey-with-a-quote'

const work = mkdtempSync(join(tmpdir(), "ironledger-agent-steps-"))
const loops: string[] = []
before(() => {
  if (skip) return
  SIZES.forEach((size, i) => {
    const disk = join(work, `disk${i}.img`)
    const fd = openSync(disk, "w")
    writeSync(fd, randomBytes(size))
    closeSync(fd)
    loops.push(execFileSync("losetup", ["-f", "--show", disk], { encoding: "utf8" }).trim())
  })
  // Only busybox's applets on the PATH, as in the ramdisk: not the host's GNU wget, dd or sed.
  const busybox = execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim()
  mkdirSync(join(work, "bin"))
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => /^[a-z0-9_.-]+$/.test(a))) {
    symlinkSync(busybox, join(work, "bin", applet))
  }
})
after(() => {
  for (const loop of loops) execFileSync("losetup", ["-d", loop])
  rmSync(work, { recursive: true, force: true })
})

/** The agent's own json_string and the step loop, with list_disks naming only the loop devices. */
const script = () => {
  const agent = readFileSync(join(agentDir, "agent.sh"), "utf8")
  const jsonString = agent.slice(agent.indexOf("json_string() {"), agent.indexOf("\n}\n", agent.indexOf("json_string() {")) + 3)
  return [
    'log() { echo "agent: $*"; }', jsonString, `. ${join(agentDir, "steps.sh")}`,
    `list_disks() { printf '%s 0 - -\\n' ${loops.map((l) => l.replace("/dev/", "")).join(" ")}; }`, "mkdir -p /run", "run_clean_steps",
  ].join("\n")
}

test("the agent asks with its key, waits, runs both erase steps on both devices, reports each, stops on 404", { skip, timeout: 60_000 }, async () => {
  const handed = [["s0", "deploy.erase_devices_metadata"], ["s1", "deploy.erase_devices"]]
  const results: Array<Record<string, unknown>> = []
  let asked = 0
  const server = createServer((req, res) => {
    let body = ""
    req.on("data", (d) => { body += d })
    req.on("end", () => {
      const b = JSON.parse(body) as Record<string, unknown>
      if (b["key"] !== KEY || !req.url!.startsWith("/v1/nodes/n1/vendor_passthru/")) { res.writeHead(404).end("{}"); return }
      if (req.url!.endsWith("/clean_step")) {
        const next = asked++ === 0 ? { wait: true } : handed.shift()
        if (next === undefined) { res.writeHead(404).end("{}"); return }
        res.writeHead(200).end(JSON.stringify(Array.isArray(next) ? { step: next[0], name: next[1], args: {} } : next))
        return
      }
      results.push(b)
      res.writeHead(202).end()
    })
  })
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok))
  const port = (server.address() as { port: number }).port
  const file = join(work, "run.sh")
  writeFileSync(file, script())
  const agent = spawn(join(work, "bin", "sh"), [file], {
    env: { PATH: join(work, "bin"), API_URL: `http://127.0.0.1:${port}`, NODE: "n1", KEY }, stdio: ["ignore", "pipe", "pipe"],
  })
  let out = ""
  agent.stdout.on("data", (d) => { out += d }); agent.stderr.on("data", (d) => { out += d })
  const code = await new Promise((ok) => agent.once("exit", ok))
  server.close()
  assert.equal(code, 0, out)
  assert.match(out, /no clean step for this ramdisk/)
  assert.deepEqual(results.map((r) => [r["step"], r["error"]]), [["s0", null], ["s1", null]], out)
  assert.equal(results[0]!["summary"], "zeroed the first and last 18432 bytes of 2 disk(s)")
  assert.equal(results[1]!["summary"], `overwrote ${TOTAL} bytes of 2 disk(s) with zeros`)
  assert.deepEqual(results[1]!["details"], { disks: 2, bytes: TOTAL })
  SIZES.forEach((size, i) => {
    const bytes = readFileSync(join(work, `disk${i}.img`))
    assert.equal(bytes.length, size)
    assert.ok(bytes.every((b) => b === 0), `every byte of device ${i} is zero`)
  })
})
