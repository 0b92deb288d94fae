// The managed dnsmasq's IPv6 router advertisements (ADR 0147), on a bridge in a namespace of the
// test's own, with a client in a second namespace whose Linux kernel solicits a router when its
// link comes up, as iPXE does before it boots: the answer carries the bridge's prefix (the client
// forms an address in it) and a router lifetime of 0 (no default route through the boot host).
// Needs root.
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as E from "fp-ts/lib/Either.js"
import { startDnsmasq, type Dnsmasq } from "../../src/adapters/pxe/dnsmasq.ts"
import { renderDnsmasqConf } from "../../src/adapters/pxe/dnsmasq-config.ts"
import { ip, namespacedProgram } from "../../src/adapters/vm/netns.ts"
import { bridgeNamespace } from "../support/dhcp-bridge.ts"

const skip = process.getuid?.() === 0 ? false : "needs root (network namespaces)"
const ns = `ironledger-ra-${process.pid}`
const client = `ironledger-rac-${process.pid}`
const work = mkdtempSync(join(tmpdir(), "ironledger-dnsmasq-ra-"))
chmodSync(work, 0o755)
let scope: Scope.Closeable | null = null
let dnsmasq: Dnsmasq | null = null

before(async () => {
  if (skip) return
  await ip(["netns", "add", client])
  const { inNs, port } = await bridgeNamespace(ns, [["10.213.98.1/24"], ["fd49:726c:6472:98::1/64", "nodad"]])
  await port("v0", "c0")
  await inNs(["link", "set", "c0", "netns", client])
  scope = Effect.runSync(Scope.make())
  dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
    tftpRoot: work, stateDir: join(work, "state"), program: namespacedProgram(work, ns, "dnsmasq"),
    mode: {
      kind: "network", interface: "br0", routerAdvertisements: true,
      dhcp: { kind: "range", start: "10.213.98.100", end: "10.213.98.150", netmask: "255.255.255.0", leaseTime: "1h" },
    },
  })))
})

after(async () => {
  if (scope !== null) await Effect.runPromise(Scope.close(scope, Exit.void))
  if (!skip) for (const n of [client, ns]) await ip(["netns", "del", n]).catch(() => {})
  rmSync(work, { recursive: true, force: true })
})

const inClient = (...args: string[]) => execFileSync("ip", ["-n", client, ...args], { encoding: "utf8" })

test("a client that solicits a router gets the bridge's prefix and no default route", { skip, timeout: 60_000 }, async () => {
  // The client's kernel sends its router solicitations once the link is up.
  inClient("link", "set", "c0", "up")
  let addresses = ""
  for (const deadline = Date.now() + 20_000; !/inet6 fd49:726c:6472:98:/.test(addresses); await new Promise((r) => setTimeout(r, 250))) {
    assert.ok(Date.now() < deadline, `no address in the bridge's prefix within 20 s:\n${addresses}\n${readFileSync(dnsmasq!.files.log, "utf8")}`)
    addresses = inClient("-6", "addr", "show", "dev", "c0", "scope", "global")
  }
  assert.equal(inClient("-6", "route", "show", "default").trim(), "", "a router lifetime of 0: no default route")
  assert.match(readFileSync(dnsmasq!.files.log, "utf8"), /RTR-ADVERT\(br0\) fd49:726c:6472:98::/)
})

test("off unless asked: the config has no router advertisement without the option", () => {
  const files = { tftpRoot: "/t", conf: "/s/c", hosts: "/s/h", leases: "/s/l", pid: "/s/p", log: "/s/log" }
  const dhcp = { kind: "range", start: "10.0.0.100", end: "10.0.0.150", netmask: "255.255.255.0", leaseTime: "1h" } as const
  const off = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp }, files)
  assert.ok(E.isRight(off) && !/enable-ra|ra-param|constructor/.test(off.right))
  const on = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp, routerAdvertisements: true }, files)
  assert.ok(E.isRight(on))
  assert.match(on.right, /^enable-ra\ndhcp-range=::,constructor:eth1,ra-only\nra-param=eth1,600,0$/m)
})
