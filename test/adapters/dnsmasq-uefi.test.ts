// The loader follows the firmware (ADR 0080): the service's dnsmasq, given an EFI boot file, offers
// it to a DHCP client whose option 93 says x86-64 UEFI (7 or 9) and pxelinux.0 to one that says
// nothing (BIOS), for the same known MAC; the config text and its refusals. A real dnsmasq in a
// network namespace and a real client (busybox udhcpc) in another. Needs root for the live part.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Mac } from "../../src/domain/values.ts"
import { renderDnsmasqConf, type DnsmasqFiles } from "../../src/adapters/pxe/dnsmasq-config.ts"
import { startDnsmasq, type Dnsmasq } from "../../src/adapters/pxe/dnsmasq.ts"
import { namespacedProgram } from "../../src/adapters/vm/netns.ts"
import { askDhcp, dhcpClientUnavailable } from "../support/dhcp-client.ts"
import { createHosts, leftoverNamespaces, netnsUnavailable, type Hosts } from "../support/netns-hosts.ts"

const skip = netnsUnavailable() ?? dhcpClientUnavailable()
const TAG = "iluefi"
const node = "52:54:00:6e:0e:01" as Mac
const work = mkdtempSync(join(tmpdir(), "ironledger-dnsmasq-uefi-"))
chmodSync(work, 0o755)
let hosts: Hosts | undefined
let scope: Scope.Closeable | undefined
let dnsmasq: Dnsmasq | undefined

const range = { kind: "range", start: "10.251.9.100", end: "10.251.9.199", netmask: "255.255.255.0", leaseTime: "1h" } as const

before(async () => {
  if (skip !== undefined) return
  hosts = createHosts(TAG, ["server", "client"], "10.251.9")
  scope = Effect.runSync(Scope.make())
  mkdirSync(join(work, "tftp"), { recursive: true })
  dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
    tftpRoot: join(work, "tftp"), stateDir: join(work, "dhcp"), program: namespacedProgram(work, hosts.host("server").namespace, "dnsmasq"),
    mode: { kind: "network", interface: "eth0", dhcp: range, bootFile: "pxelinux.0", efiBootFile: "syslinux.efi" },
  })))
})

after(async () => {
  if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  hosts?.destroy()
  rmSync(work, { recursive: true, force: true })
  if (skip === undefined) assert.deepEqual(leftoverNamespaces(TAG), [])
})

test("one known MAC: BIOS firmware is offered pxelinux.0, x86-64 UEFI firmware (option 93 = 7 or 9) syslinux.efi", { skip, timeout: 60_000 }, async () => {
  const client = hosts!.host("client")
  await Effect.runPromise(dnsmasq!.setBootMacs([node]))
  assert.equal((await askDhcp(client, node))?.bootFile, "pxelinux.0")
  assert.equal((await askDhcp(client, node, 6, ["0x5d:0007"]))?.bootFile, "syslinux.efi")
  assert.equal((await askDhcp(client, node, 6, ["0x5d:0009"]))?.bootFile, "syslinux.efi")
  // Architecture 6 is 32-bit UEFI: nothing here runs there, so it gets the BIOS loader like any other.
  assert.equal((await askDhcp(client, node, 6, ["0x5d:0006"]))?.bootFile, "pxelinux.0")
})

test("the EFI boot file in dnsmasq's config: tagged by architecture, checked, refused in proxy mode", () => {
  const files: DnsmasqFiles = { tftpRoot: "/t", conf: "/s/c", hosts: "/s/h", leases: "/s/l", pid: "/s/p", log: "/s/log" }
  const plain = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp: range }, files)
  assert.ok(E.isRight(plain))
  assert.doesNotMatch(plain.right, /efi64|client-arch/, "without an EFI boot file the config is as before")
  const efi = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp: range, efiBootFile: "syslinux.efi" }, files)
  assert.ok(E.isRight(efi))
  assert.match(efi.right, /^dhcp-match=set:efi64,option:client-arch,7$/m)
  assert.match(efi.right, /^dhcp-boot=tag:efi64,syslinux\.efi$/m)
  assert.match(efi.right, /^dhcp-boot=tag:!efi64,pxelinux\.0$/m)
  const injected = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp: range, efiBootFile: "a.efi\ndhcp-script=/bin/sh" }, files)
  assert.ok(E.isLeft(injected) && /EFI boot file/.test(injected.left))
  const proxy = renderDnsmasqConf({ kind: "network", interface: "eth1", dhcp: { kind: "proxy", subnet: "10.9.0.0" }, efiBootFile: "syslinux.efi" }, files)
  assert.ok(E.isLeft(proxy) && /proxy-DHCP/.test(proxy.left))
})
