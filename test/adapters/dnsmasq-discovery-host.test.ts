// A conductor host's own DHCP with discovery on (ADR 0140), against a real dnsmasq in a network
// namespace and a real DHCP client (busybox udhcpc) on another: a MAC no node has is answered, with
// this host as next-server, and fetches the discovery config and kernel `serve --discovery`
// writes; a MAC of the fleet that another host boots is ignored here; a MAC this host links
// boots its own config. Needs root.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type { Mac } from "../../src/domain/values.ts"
import type { NodeEvent, Uuid } from "../../src/domain/index.ts"
import { Fleet } from "../../src/application/projections/fleet.ts"
import { namespacedProgram } from "../../src/adapters/vm/netns.ts"
import { makeFsImageStore } from "../../src/adapters/images/fs-image-store.ts"
import { writeDefaultDeployImages } from "../../src/adapters/ramdisk/build/register.ts"
import { startHostDhcp, type HostDhcp } from "../../src/cli/conductor-dhcp.ts"
import { askDhcp, dhcpClientUnavailable, tftpGet } from "../support/dhcp-client.ts"
import { createHosts, leftoverNamespaces, netnsUnavailable, type Hosts } from "../support/netns-hosts.ts"

const skip = netnsUnavailable() ?? dhcpClientUnavailable()
const TAG = "ildisc"
const API = "http://10.251.11.10:6385"
const unknown = "52:54:00:d1:5c:01" as Mac
const elsewhere = "52:54:00:d1:5c:02" as Mac
const here = "52:54:00:d1:5c:03" as Mac
const work = mkdtempSync(join(tmpdir(), "ironledger-dhcp-discovery-"))
chmodSync(work, 0o755)
const tftpRoot = join(work, "tftp")
let hosts: Hosts | undefined
let dhcp: HostDhcp | undefined
let unfollow = () => {}
const logs: Array<string> = []

/** The conductor's projection: nodes enrolled with one MAC each as the test goes. */
const fleet = new Fleet()
const addNode = (id: string, mac: Mac) => {
  const meta = { occurredAt: "2030-01-01T00:00:00.000Z", actor: "test", correlationId: "op", causationId: null }
  const enrolled = { nodeId: id as Uuid, name: null, driver: "ipmi", driverInfo: {}, interfaces: {}, properties: {}, instanceInfo: {}, extra: {} }
  fleet.apply(id, { event: { type: "Enrolled", data: enrolled } as NodeEvent, revision: 0, meta })
  fleet.apply(id, { event: { type: "PortAdded", data: { portId: id as Uuid, mac } } as NodeEvent, revision: 1, meta })
}

before(async () => {
  if (skip !== undefined) return
  hosts = createHosts(TAG, ["a", "client"], "10.251.11")
  // The default deploy images, as `ramdisk build` records them in the host's state directory.
  const stateDir = join(work, "state")
  const images = await makeFsImageStore({ root: join(stateDir, "images") })
  writeFileSync(join(work, "kernel"), "a discovery kernel\n")
  writeFileSync(join(work, "initrd"), "a discovery initramfs\n")
  const kernel = await Effect.runPromise(images.importFile(join(work, "kernel")))
  const ramdisk = await Effect.runPromise(images.importFile(join(work, "initrd")))
  await writeDefaultDeployImages(join(stateDir, "images"), { kernel: kernel.id, ramdisk: ramdisk.id })
  // The config this host's PXE tree wrote for the node it boots.
  mkdirSync(join(tftpRoot, "pxelinux.cfg"), { recursive: true })
  writeFileSync(join(tftpRoot, "pxelinux.cfg", "01-52-54-00-d1-5c-03"), "default boot-from-a\n")
  dhcp = await startHostDhcp(
    { interface: "eth0", start: "10.251.11.100", end: "10.251.11.149", netmask: "255.255.255.0" },
    tftpRoot, join(work, "dhcp"), (line) => logs.push(line),
    { discovery: { apiUrl: API, imagesStateDir: stateDir }, program: namespacedProgram(work, hosts.host("a").namespace, "dnsmasq") },
  )
  await Effect.runPromise(dhcp.setBootMacs([here]))
  unfollow = dhcp.followFleet(fleet)
})

after(async () => {
  unfollow()
  await dhcp?.close()
  hosts?.destroy()
  rmSync(work, { recursive: true, force: true })
  if (skip === undefined) assert.deepEqual(leftoverNamespaces(TAG), [])
})

const hostsFile = () => readFileSync(dhcp!.dnsmasq.files.hosts, "utf8")
const until = async (what: string, ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 50))
  assert.ok(ok(), what)
}

test("an unknown MAC gets the discovery boot; the fleet's MACs another host boots are ignored", { skip, timeout: 90_000 }, async () => {
  const client = hosts!.host("client")
  const answer = await askDhcp(client, unknown)
  assert.ok(answer !== null, "a MAC no node has is answered")
  assert.equal(answer.nextServer, "10.251.11.10")
  assert.equal(answer.bootFile, "pxelinux.0")
  const config = await tftpGet(client, answer.address, answer.nextServer, "pxelinux.cfg/default")
  assert.match(config ?? "", /ironledger_mode=discover/)
  assert.match(config ?? "", new RegExp(`ironic_api_url=${API}`))
  assert.equal(await tftpGet(client, answer.address, answer.nextServer, "discovery/deploy_kernel"), "a discovery kernel\n")

  // Two nodes appear in the fleet: the one this host links stays answered, the other is ignored.
  addNode("11111111-1111-4111-8111-111111111111", elsewhere)
  addNode("33333333-3333-4333-8333-333333333333", here)
  await until("the fleet's MAC another host boots is ignored", () => hostsFile().includes(`${elsewhere},ignore`))
  assert.doesNotMatch(hostsFile(), new RegExp(`${here},ignore`))
  assert.equal(await askDhcp(client, elsewhere, 4), null, "a node another host boots gets no answer here")
  assert.match(readFileSync(dhcp!.dnsmasq.files.log, "utf8"), new RegExp(`DHCPDISCOVER\\(eth0\\) ${elsewhere} ignored`))
  const own = await askDhcp(client, here)
  assert.equal(own?.nextServer, "10.251.11.10")
  assert.equal(await tftpGet(client, own!.address, own!.nextServer, "pxelinux.cfg/01-52-54-00-d1-5c-03"), "default boot-from-a\n")

  // The other host gives the node up and this one links it: answered here from then on.
  await Effect.runPromise(dhcp!.setBootMacs([here, elsewhere]))
  assert.doesNotMatch(hostsFile(), /ignore/)
})

test("a rewrite of the hosts file that failed is made again, though the fleet's MACs have not moved since", { skip, timeout: 30_000 }, async () => {
  const path = dhcp!.dnsmasq.files.hosts
  const late = "52:54:00:d1:5c:04" as Mac
  // A directory where the hosts file goes: the atomic rename onto it fails.
  rmSync(path)
  mkdirSync(path)
  addNode("44444444-4444-4444-8444-444444444444", late)
  await until("the failed rewrite is logged", () => logs.some((l) => l.startsWith("DHCP hosts of the fleet's MACs not updated")))
  rmSync(path, { recursive: true })
  // The fleet's MACs are the same as at the failure: only the retry writes them.
  await until("the file is written again with the MAC that came meanwhile", () => {
    try { return statSync(path).isFile() && hostsFile().includes(`${late},ignore`) } catch { return false }
  })
  assert.equal(await askDhcp(hosts!.host("client"), late, 4), null, "the late node is ignored here")
})

test("without default deploy images a host refuses discovery and says how to get them", { skip }, async () => {
  const empty = join(work, "no-images")
  await assert.rejects(startHostDhcp({ interface: "eth0", start: "10.251.11.150", end: "10.251.11.160", netmask: "255.255.255.0" },
    join(empty, "tftp"), join(empty, "dhcp"), () => {}, { discovery: { apiUrl: API, imagesStateDir: empty } }),
  /--discovery: discovery needs default deploy images \(ironledger ramdisk build\) --state-dir /)
})
