// The managed dnsmasq in network mode, on a bridge in a network namespace of the test's own, with a
// real DHCP client (busybox udhcpc on a veth): it leases an address to a known MAC, ignores an
// unknown one, and keeps serving through host-list reloads once a lease exists (dnsmasq 2.90
// crashed on that SIGHUP when hosts carried a `set:` tag). Needs root.
import { execFile } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Mac } from "../../src/domain/values.ts"
import { startDnsmasq, type Dnsmasq } from "../../src/adapters/pxe/dnsmasq.ts"
import { ip, namespacedProgram } from "../../src/adapters/vm/netns.ts"
import { bridgeNamespace } from "../support/dhcp-bridge.ts"

const skip = process.getuid?.() === 0 ? false : "needs root (network namespace)"
const ns = `ironledger-dhcp-${process.pid}`
const known = "52:54:00:5e:00:01" as Mac
const work = mkdtempSync(join(tmpdir(), "ironledger-dnsmasq-net-"))
chmodSync(work, 0o755)
let scope: Scope.Closeable | null = null
let dnsmasq: Dnsmasq | null = null

before(async () => {
  if (skip) return
  const { inNs, port } = await bridgeNamespace(ns, [["10.213.99.1/24"]])
  for (const [side, client, mac] of [["v0", "c0", known], ["v1", "c1", "52:54:00:5e:00:02"]] as const) {
    await port(side, client)
    await inNs(["link", "set", client, "address", mac])
    await inNs(["link", "set", client, "up"])
  }
  scope = Effect.runSync(Scope.make())
  dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
    tftpRoot: work, stateDir: join(work, "state"), program: namespacedProgram(work, ns, "dnsmasq"),
    mode: { kind: "network", interface: "br0", dhcp: { kind: "range", start: "10.213.99.100", end: "10.213.99.150", netmask: "255.255.255.0", leaseTime: "1h" } },
    maxLogBytes: 2048,
  })))
})

after(async () => {
  if (scope !== null) await Effect.runPromise(Scope.close(scope, Exit.void))
  if (!skip) await ip(["netns", "del", ns]).catch(() => {})
  rmSync(work, { recursive: true, force: true })
})

/** One DHCP exchange by busybox udhcpc on the client end; the leased address, or null. */
const lease = (iface: string) => new Promise<string | null>((resolve) => {
  execFile("ip", ["netns", "exec", ns, "busybox", "udhcpc", "-i", iface, "-n", "-q", "-t", "5", "-T", "1", "-s", "/bin/true"], { timeout: 15_000 },
    (_error, stdout, stderr) => { resolve((stdout + stderr).match(/lease of (\S+) obtained/)?.[1] ?? null) })
})

test("a known MAC gets a lease, an unknown one none, and reloads after a lease keep dnsmasq serving", { skip, timeout: 60_000 }, async () => {
  const d = dnsmasq!
  await Effect.runPromise(d.setBootMacs([known]))
  assert.match(await lease("c0") ?? "no lease", /^10\.213\.99\.1\d\d$/)
  assert.equal(await lease("c1"), null, "a MAC without a boot config is ignored")
  // The reloads that crashed dnsmasq 2.90 while a tagged host held a lease.
  await Effect.runPromise(d.setBootMacs([known]))
  await Effect.runPromise(d.setBootMacs([known, "52:54:00:5e:00:02" as Mac]))
  assert.match(await lease("c1") ?? "no lease", /^10\.213\.99\.1\d\d$/, "a MAC added by a reload gets a lease")
  assert.match(await lease("c0") ?? "no lease", /^10\.213\.99\.1\d\d$/)
  assert.match(readFileSync(d.files.log, "utf8"), /DHCPACK\(br0\) 10\.213\.99\.1\d\d 52:54:00:5e:00:02/)
})

test("a dnsmasq that dies is started again with the same hosts; its log is rotated past its size", { skip, timeout: 60_000 }, async () => {
  const d = dnsmasq!
  await Effect.runPromise(d.setBootMacs([known]))
  const first = d.pid
  process.kill(first, "SIGKILL")
  const deadline = Date.now() + 15_000
  while (d.pid === first) {
    assert.ok(Date.now() < deadline, "a new dnsmasq within 15 s")
    await new Promise((r) => setTimeout(r, 100))
  }
  assert.match(await lease("c0") ?? "no lease", /^10\.213\.99\.1\d\d$/, "the new dnsmasq serves the known MAC")
  assert.ok(existsSync(`${d.files.log}.1`), "the dead one's log is kept")

  while (statSync(d.files.log).size <= 2048) await Effect.runPromise(d.setBootMacs([known]))
  assert.equal(await Effect.runPromise(d.rotateLog), true)
  assert.ok(statSync(d.files.log).size < 2048, "a fresh log")
  assert.match(await lease("c0") ?? "no lease", /^10\.213\.99\.1\d\d$/)
  assert.match(readFileSync(d.files.log, "utf8"), /DHCPACK\(br0\)/, "dnsmasq writes to the reopened log")
})
