// Two conductor hosts' own dnsmasq on one provisioning network (ADR 0072), each in a network
// namespace of its own on a bridge, with a real DHCP client (busybox udhcpc) on a third: a node's
// MAC is answered by the host whose hosts file lists it, with that host as next-server and the
// boot file; once the entry moves to the other host, the first ignores the MAC and the other
// answers it. Needs root.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Mac } from "../../src/domain/values.ts"
import { startDnsmasq, type Dnsmasq } from "../../src/adapters/pxe/dnsmasq.ts"
import { namespacedProgram } from "../../src/adapters/vm/netns.ts"
import { askDhcp, dhcpClientUnavailable, tftpGet } from "../support/dhcp-client.ts"
import { createHosts, leftoverNamespaces, netnsUnavailable, type Hosts } from "../support/netns-hosts.ts"

const skip = netnsUnavailable() ?? dhcpClientUnavailable()
const TAG = "ildhcp"
const node = "52:54:00:6e:00:01" as Mac
const bootConfig = "01-52-54-00-6e-00-01"
const work = mkdtempSync(join(tmpdir(), "ironledger-dnsmasq-hosts-"))
chmodSync(work, 0o755)
let hosts: Hosts | undefined
let scope: Scope.Closeable | undefined
const servers = new Map<string, Dnsmasq>()

before(async () => {
  if (skip !== undefined) return
  hosts = createHosts(TAG, ["a", "b", "client"], "10.251.7")
  scope = Effect.runSync(Scope.make())
  for (const [name, range] of [["a", ["10.251.7.100", "10.251.7.149"]], ["b", ["10.251.7.150", "10.251.7.199"]]] as const) {
    const dir = join(work, name)
    mkdirSync(join(dir, "tftp", "pxelinux.cfg"), { recursive: true })
    // What the node's firmware would fetch from this host (the PXE adapter links it per MAC).
    writeFileSync(join(dir, "tftp", "pxelinux.cfg", bootConfig), `default from-${name}\n`)
    servers.set(name, await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
      tftpRoot: join(dir, "tftp"), stateDir: join(dir, "dhcp"), program: namespacedProgram(dir, hosts.host(name).namespace, "dnsmasq"),
      mode: { kind: "network", interface: "eth0", dhcp: { kind: "range", start: range[0], end: range[1], netmask: "255.255.255.0", leaseTime: "1h" } },
    }))))
  }
})

after(async () => {
  if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  hosts?.destroy()
  rmSync(work, { recursive: true, force: true })
  if (skip === undefined) assert.deepEqual(leftoverNamespaces(TAG), [])
})

const dhcpLog = (name: string) => readFileSync(servers.get(name)!.files.log, "utf8")

test("a node's MAC is answered by the host that lists it, next-server that host, and by the other once it moves", { skip, timeout: 60_000 }, async () => {
  const [a, b] = [servers.get("a")!, servers.get("b")!]
  const client = hosts!.host("client")
  await Effect.runPromise(a.setBootMacs([node]))
  const first = await askDhcp(client, node)
  assert.deepEqual({ ...first, address: undefined }, { serverId: "10.251.7.10", nextServer: "10.251.7.10", bootFile: "pxelinux.0", address: undefined })
  assert.match(first!.address, /^10\.251\.7\.1[0-4]\d$/, "an address from a's range")
  assert.match(dhcpLog("b"), new RegExp(`DHCPDISCOVER\\(eth0\\) ${node} ignored`), "b does not answer a MAC it does not boot")

  // The take-over: the new host lists the MAC, the old one drops it.
  await Effect.runPromise(b.setBootMacs([node]))
  await Effect.runPromise(a.setBootMacs([]))
  const aLogBefore = dhcpLog("a").length
  const moved = await askDhcp(client, node)
  assert.equal(moved?.serverId, "10.251.7.11")
  assert.equal(moved?.nextServer, "10.251.7.11")
  assert.equal(moved?.bootFile, "pxelinux.0")
  assert.match(moved!.address, /^10\.251\.7\.1[5-9]\d$/, "an address from b's range")
  assert.equal(await tftpGet(client, moved!.address, moved!.nextServer, `pxelinux.cfg/${bootConfig}`), "default from-b\n", "the boot goes on from b")
  const aSince = dhcpLog("a").slice(aLogBefore)
  assert.match(aSince, new RegExp(`DHCPDISCOVER\\(eth0\\) ${node} ignored`), "a ignores the MAC it no longer boots")
  assert.doesNotMatch(aSince, /DHCPOFFER/)

  // A MAC neither host boots gets no answer at all.
  await Effect.runPromise(b.setBootMacs([]))
  assert.equal(await askDhcp(client, node, 4), null)
})

test("a MAC added as a file of its own (no reload) is answered at once; removed, it is ignored again (ADR 0120)", { skip, timeout: 60_000 }, async () => {
  const a = servers.get("a")!
  const client = hosts!.host("client")
  const reloads = () => dhcpLog("a").split("\n").filter((l) => l.endsWith(`read ${a.files.hosts}`)).length
  const before = reloads()
  await Effect.runPromise(a.changeBootMacs({ add: [node], remove: [] }))
  assert.equal(reloads(), before, "adding one MAC re-read the whole hosts file")
  const answered = await askDhcp(client, node)
  assert.equal(answered?.serverId, "10.251.7.10")
  assert.equal(answered?.bootFile, "pxelinux.0")
  await Effect.runPromise(a.changeBootMacs({ add: [], remove: [node] }))
  assert.equal(reloads(), before + 1, "a removal is one full reload")
  assert.equal(await askDhcp(client, node, 4), null)
})
