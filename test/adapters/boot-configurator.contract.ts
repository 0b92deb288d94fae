// The BootConfigurator contract: every adapter of the port must pass it. What a node would get is
// observed from outside the adapter: for the PXE adapter, over real TFTP by MAC, as PXELINUX asks.
import { randomBytes, randomUUID } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { BootConfigurator, type DeployBoot } from "../../src/ports/boot-configurator.ts"

export interface BootUnderTest {
  readonly layer: Layer.Layer<BootConfigurator>
  /** The pxelinux config PXELINUX would fetch for this MAC (pxelinux.cfg/01-...), or null. */
  readonly fetchConfig: (mac: string) => Promise<string | null>
  /** The bytes a node would fetch as `<nodeId>/<name>`, or null when there is no such file. */
  readonly fetchFile: (nodeId: string, name: string) => Promise<Uint8Array | null>
  /** Every entry the adapter holds, as paths in the TFTP tree (temporaries included). */
  readonly entries: () => Promise<ReadonlyArray<string>>
}

/** A PXELINUX-style reading, independent of the adapter's own parser. */
export const readPxelinux = (text: string) => {
  let defaultLabel: string | null = null
  const labels = new Map<string, string[]>()
  let current: string[] | null = null
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const [keyword, ...rest] = line.split(/\s+/)
    if (keyword!.toLowerCase() === "default") defaultLabel = rest.join(" ")
    else if (keyword!.toLowerCase() === "label") labels.set(rest.join(" "), current = [])
    else current?.push(line)
  }
  const label = (name: string) => {
    const lines = labels.get(name)
    assert.ok(lines !== undefined, `label ${name} is missing in:\n${text}`)
    const value = (keyword: string) => lines.find((l) => l.toLowerCase().startsWith(`${keyword} `))?.slice(keyword.length + 1).trim() ?? null
    const args = new Map((value("append") ?? "").split(/\s+/).filter((w) => w.includes("=")).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)] as const))
    return { lines, kernel: value("kernel"), append: value("append"), args, ipappend: value("ipappend"), localboot: value("localboot") }
  }
  return { defaultLabel, labels, label }
}

const randomMac = () => ["52", ...Array.from(randomBytes(5), (b) => b.toString(16).padStart(2, "0"))].join(":")
const linkName = (mac: string) => `01-${mac.replace(/:/g, "-")}`
/** Compares bytes without handing big buffers to assert's diff (slow enough to look like a hang). */
export const assertSameBytes = (actual: Uint8Array | null, expected: Uint8Array, what: string) => {
  assert.ok(actual !== null, `${what} is not served`)
  assert.ok(Buffer.from(actual).equals(expected), `${what}: ${actual.length} bytes served, ${expected.length} expected, or contents differ`)
}

/** A deploy key as the application makes one. */
const newKey = () => randomBytes(24).toString("base64url")

export const bootConfiguratorContract = (name: string, open: () => Promise<BootUnderTest>) =>
  describe(`BootConfigurator contract: ${name}`, () => {
    let boot: BootUnderTest
    let dir: string
    let images: { deployKernel: string; deployRamdisk: string; kernel: string; ramdisk: string }
    let port: BootConfigurator["Service"]
    const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)
    const fail = <A, E>(effect: Effect.Effect<A, E>) => run(Effect.flip(effect))
    const prepare = (b: DeployBoot) => run(port.prepareDeploy(b))
    const toBoot = (id: string, root: string | null) => run(port.switchToBoot(id, root))
    const label = (id: string) => run(port.currentLabel(id))
    const clean = (id: string, macs: ReadonlyArray<string>) => run(port.clean(id, macs))

    const node = (overrides: Partial<DeployBoot> = {}): DeployBoot => {
      const id = randomUUID()
      return {
        nodeId: id, macs: [randomMac(), randomMac()],
        deployKernel: images.deployKernel, deployRamdisk: images.deployRamdisk, kernel: images.kernel, ramdisk: images.ramdisk,
        deployId: randomUUID(), deployKey: newKey(), iscsiIqn: `iqn.2026-11.org.ironledger:${id}`, apiUrl: "http://127.0.0.1:6385",
        ...overrides,
      }
    }
    const configOf = async (mac: string) => {
      const text = await boot.fetchConfig(mac)
      assert.ok(text !== null, `no config is served for MAC ${mac}`)
      return { text, pxe: readPxelinux(text) }
    }
    const entriesOf = async (b: DeployBoot) =>
      (await boot.entries()).filter((e) => e.includes(b.nodeId) || b.macs.some((m) => e.includes(linkName(m))))

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "ironledger-boot-contract-"))
      const file = (n: string, size: number) => { const p = join(dir, n); writeFileSync(p, randomBytes(size)); return p }
      // Sizes past TFTP's 512-byte blocks and not multiples of them.
      images = { deployKernel: file("vmlinuz-deploy", 150_001), deployRamdisk: file("initrd-deploy", 300_007), kernel: file("vmlinuz", 70_003), ramdisk: file("initrd", 90_011) }
      boot = await open()
      port = await Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* BootConfigurator }), boot.layer))
    })
    after(() => rmSync(dir, { recursive: true, force: true }))

    test("every MAC of a node fetches its config: default deploy, the deploy ramdisk, the callback arguments", async () => {
      const a = node()
      const b = node()
      await prepare(a)
      await prepare(b)
      for (const n of [a, b]) {
        for (const mac of n.macs) {
          const { pxe } = await configOf(mac)
          assert.equal(pxe.defaultLabel, "deploy")
          const deploy = pxe.label("deploy")
          assert.equal(deploy.kernel, `${n.nodeId}/deploy_kernel`)
          assert.equal(deploy.args.get("initrd"), `${n.nodeId}/deploy_ramdisk`)
          assert.equal(deploy.args.get("deployment_id"), n.deployId)
          assert.equal(deploy.args.get("deployment_key"), n.deployKey)
          assert.equal(deploy.args.get("iscsi_target_iqn"), n.iscsiIqn)
          assert.equal(deploy.args.get("ironic_api_url"), n.apiUrl)
          assert.equal(deploy.args.get("node_uuid"), n.nodeId)
          assert.equal(deploy.ipappend, "3")
          assert.equal(pxe.label("boot").kernel, `${n.nodeId}/kernel`)
          assert.equal(pxe.label("rescue").kernel, `${n.nodeId}/deploy_kernel`)
        }
        assert.equal(await label(n.nodeId), "deploy")
      }
    })

    test("the node's images are served byte for byte", async () => {
      const a = node()
      await prepare(a)
      for (const [file, source] of [["deploy_kernel", images.deployKernel], ["deploy_ramdisk", images.deployRamdisk], ["kernel", images.kernel], ["ramdisk", images.ramdisk]] as const) {
        assertSameBytes(await boot.fetchFile(a.nodeId, file), readFileSync(source), file)
      }
    })

    test("switchToBoot: default boot with root=UUID, the deployment key gone, every label kept; the other node untouched", async () => {
      const a = node()
      const b = node()
      await prepare(a)
      await prepare(b)
      const root = randomUUID()
      await toBoot(a.nodeId, root)
      for (const mac of a.macs) {
        const { text, pxe } = await configOf(mac)
        assert.equal(pxe.defaultLabel, "boot")
        const bootLabel = pxe.label("boot")
        assert.equal(bootLabel.kernel, `${a.nodeId}/kernel`)
        assert.equal(bootLabel.args.get("initrd"), `${a.nodeId}/ramdisk`)
        assert.equal(bootLabel.args.get("root"), `UUID=${root}`)
        assert.ok(bootLabel.append!.split(/\s+/).includes("ro"))
        assert.equal(pxe.label("deploy").args.get("deployment_id"), a.deployId)
        assert.equal(pxe.label("rescue").kernel, `${a.nodeId}/deploy_kernel`)
        assert.ok(!text.includes(a.deployKey), "the deployment key is still in the config")
        assert.ok(!text.includes("deployment_key"), "a deployment_key argument is still in the config")
      }
      assert.equal(await label(a.nodeId), "boot")
      const other = await configOf(b.macs[0]!)
      assert.equal(other.pxe.defaultLabel, "deploy")
      assert.equal(other.pxe.label("deploy").args.get("deployment_key"), b.deployKey)
    })

    test("a whole-disk node boots from its disk: localboot, no instance kernel served, no root filesystem accepted", async () => {
      const a = node({ kernel: null, ramdisk: null })
      await prepare(a)
      assert.equal((await configOf(a.macs[0]!)).pxe.label("boot").localboot, "0")
      assert.ok(await boot.fetchFile(a.nodeId, "kernel") === null, "kernel is still served")
      assert.ok(await boot.fetchFile(a.nodeId, "ramdisk") === null, "ramdisk is still served")
      const e = await fail(port.switchToBoot(a.nodeId, randomUUID()))
      assert.equal(e._tag, "BootConfigFailed")
      assert.equal(await label(a.nodeId), "deploy")
      await toBoot(a.nodeId, null)
      const { text, pxe } = await configOf(a.macs[1]!)
      assert.equal(pxe.defaultLabel, "boot")
      assert.equal(pxe.label("boot").localboot, "0")
      assert.ok(!text.includes(a.deployKey))
    })

    test("a partition-image node switched with a null root boots its disk", async () => {
      const a = node()
      await prepare(a)
      await toBoot(a.nodeId, null)
      const { pxe } = await configOf(a.macs[0]!)
      assert.equal(pxe.defaultLabel, "boot")
      assert.equal(pxe.label("boot").localboot, "0")
      assert.equal(pxe.label("boot").kernel, null)
    })

    test("switchToRescue with a rescue's key: on the rescue label only, gone once the node boots its instance (ADR 0095)", async () => {
      const a = node()
      await prepare(a)
      const rescueKey = "rescue-key-0123456789abcdef"
      await run(port.switchToRescue(a.nodeId, rescueKey))
      const { text, pxe } = await configOf(a.macs[0]!)
      assert.equal(pxe.defaultLabel, "rescue")
      assert.equal(pxe.label("rescue").args.get("deployment_key"), rescueKey)
      assert.equal(pxe.label("rescue").args.get("rescue_mode"), "1")
      assert.equal(pxe.label("deploy").args.get("deployment_key"), undefined)
      assert.ok(!text.includes(a.deployKey))
      await toBoot(a.nodeId, randomUUID())
      assert.ok(!(await configOf(a.macs[0]!)).text.includes(rescueKey))
      // A key that could end its kernel argument is refused.
      assert.equal((await fail(port.switchToRescue(a.nodeId, "two words")))._tag, "BootConfigFailed")
    })

    test("switchToRescue: default rescue on the deploy ramdisk, without the key", async () => {
      const a = node()
      await prepare(a)
      await run(port.switchToRescue(a.nodeId))
      const { text, pxe } = await configOf(a.macs[1]!)
      assert.equal(pxe.defaultLabel, "rescue")
      const rescue = pxe.label("rescue")
      assert.equal(rescue.kernel, `${a.nodeId}/deploy_kernel`)
      assert.equal(rescue.args.get("initrd"), `${a.nodeId}/deploy_ramdisk`)
      assert.equal(rescue.args.get("ironic_api_url"), a.apiUrl)
      assert.ok(!text.includes(a.deployKey))
      assert.equal(await label(a.nodeId), "rescue")
      // Back from rescue to the instance.
      const root = randomUUID()
      await toBoot(a.nodeId, root)
      assert.equal((await configOf(a.macs[0]!)).pxe.label("boot").args.get("root"), `UUID=${root}`)
    })

    test("clean removes exactly the node's files and links, leaves the other node, and can be repeated", async () => {
      const a = node()
      const b = node()
      await prepare(a)
      await prepare(b)
      await toBoot(b.nodeId, randomUUID())
      const bBefore = await entriesOf(b)
      const bConfig = await boot.fetchConfig(b.macs[0]!)
      assert.ok((await entriesOf(a)).length >= 2 + 5, "the node's files and links exist before clean")
      await clean(a.nodeId, a.macs)
      assert.deepEqual(await entriesOf(a), [])
      for (const mac of a.macs) assert.equal(await boot.fetchConfig(mac), null)
      assert.ok(await boot.fetchFile(a.nodeId, "deploy_kernel") === null, "deploy_kernel is still served")
      assert.equal(await label(a.nodeId), null)
      assert.deepEqual(await entriesOf(b), bBefore)
      assert.equal(await boot.fetchConfig(b.macs[0]!), bConfig)
      assert.ok(bConfig !== null)
      await clean(a.nodeId, a.macs)
      await clean(randomUUID(), [randomMac()])
      assert.deepEqual(await entriesOf(b), bBefore)
    })

    test("clean leaves a listed MAC whose link boots another node", async () => {
      const a = node()
      const b = node()
      await prepare(a)
      await prepare(b)
      await clean(a.nodeId, [...a.macs, b.macs[0]!])
      assert.equal(readPxelinux((await boot.fetchConfig(b.macs[0]!))!).label("deploy").args.get("node_uuid"), b.nodeId)
    })

    test("a MAC that boots another node is refused, and nothing is written", async () => {
      const a = node()
      await prepare(a)
      const before = await boot.entries()
      const b = node({ macs: [randomMac(), a.macs[1]!] })
      const e = await fail(port.prepareDeploy(b))
      assert.equal(e._tag, "BootConfigFailed")
      assert.match(e.reason, /already boots/)
      assert.deepEqual(await boot.entries(), before)
      assert.equal(readPxelinux((await boot.fetchConfig(a.macs[1]!))!).label("deploy").args.get("node_uuid"), a.nodeId)
      // Once the first node is cleaned, the MAC is free.
      await clean(a.nodeId, a.macs)
      await prepare(b)
      assert.equal(readPxelinux((await boot.fetchConfig(a.macs[1]!))!).label("deploy").args.get("node_uuid"), b.nodeId)
    })

    test("preparing again moves the links: a MAC no longer listed stops booting the node", async () => {
      const a = node()
      await prepare(a)
      const again = { ...a, macs: [a.macs[0]!, randomMac()], deployId: randomUUID(), deployKey: newKey() }
      await prepare(again)
      assert.equal(await boot.fetchConfig(a.macs[1]!), null)
      for (const mac of again.macs) {
        const deploy = (await configOf(mac)).pxe.label("deploy")
        assert.equal(deploy.args.get("deployment_key"), again.deployKey)
        assert.equal(deploy.args.get("deployment_id"), again.deployId)
      }
      // A redeploy of a whole-disk image drops the old instance kernel.
      await prepare({ ...again, kernel: null, ramdisk: null })
      assert.ok(await boot.fetchFile(a.nodeId, "kernel") === null, "kernel is still served")
      assert.ok(!(await boot.entries()).some((e) => e.includes(".tmp")), "temporaries were left behind")
    })

    test("names that could leave the tree are refused with a typed error and write nothing", async () => {
      const before = await boot.entries()
      const good = node()
      const badIds = ["../x", "../../etc", "", "x/../..", `${good.nodeId}/../../x`, `${good.nodeId}\n`.repeat(2)]
      const badMacs = ["../../etc/passwd", "aa:bb:cc:dd:ee:zz", "aa-bb-cc-dd-ee-ff/../..", "aa:bb:cc:dd:ee", ""]
      const attempts: Array<Effect.Effect<unknown, { readonly _tag: string }>> = []
      for (const id of badIds) {
        attempts.push(
          port.prepareDeploy({ ...good, nodeId: id }),
          port.switchToBoot(id, randomUUID()),
          port.switchToRescue(id),
          port.currentLabel(id),
          port.clean(id, good.macs),
        )
      }
      for (const mac of badMacs) {
        attempts.push(
          port.prepareDeploy({ ...good, macs: [good.macs[0]!, mac] }),
          port.clean(good.nodeId, [mac]),
        )
      }
      for (const attempt of attempts) assert.equal((await fail(attempt))._tag, "BootConfigFailed")
      assert.deepEqual(await boot.entries(), before)
    })

    test("values that would break out of their kernel argument are refused; the key never shows in the error", async () => {
      const before = await boot.entries()
      const base = node()
      const bad: ReadonlyArray<Partial<DeployBoot>> = [
        { deployKey: `${newKey()} init=/bin/sh` },
        { deployKey: `${newKey()}\nlabel evil` },
        { deployKey: "short" },
        { apiUrl: "http://127.0.0.1:6385 init=/bin/sh" },
        { apiUrl: "http://127.0.0.1:6385\ndefault evil" },
        { apiUrl: "file:///etc/passwd" },
        { iscsiIqn: "iqn.2026-11.org.x:a b" },
        { deployId: "x y" },
        { macs: [] },
        { kernel: images.kernel, ramdisk: null },
      ]
      for (const overrides of bad) {
        const attempt = { ...base, ...overrides }
        const e = await fail(port.prepareDeploy(attempt))
        assert.equal(e._tag, "BootConfigFailed", JSON.stringify(overrides))
        assert.ok(!e.message.includes(attempt.deployKey), "the error message reveals the deploy key")
      }
      await prepare(base)
      const e = await fail(port.switchToBoot(base.nodeId, `${randomUUID()} init=/bin/sh`))
      assert.equal(e._tag, "BootConfigFailed")
      assert.equal(await label(base.nodeId), "deploy")
      await clean(base.nodeId, base.macs)
      assert.deepEqual(await boot.entries(), before)
    })

    test("switching a node without a config is refused; its label is null", async () => {
      const id = randomUUID()
      assert.equal(await label(id), null)
      assert.equal((await fail(port.switchToBoot(id, randomUUID())))._tag, "BootConfigFailed")
      assert.equal((await fail(port.switchToRescue(id)))._tag, "BootConfigFailed")
      assert.equal(await label(id), null)
    })

    test("a node id in upper case names the same node", async () => {
      const a = node()
      await prepare({ ...a, nodeId: a.nodeId.toUpperCase(), macs: a.macs.map((m) => m.toUpperCase().replace(/:/g, "-")) })
      assert.equal(await label(a.nodeId), "deploy")
      assert.equal(readPxelinux((await boot.fetchConfig(a.macs[0]!))!).label("deploy").args.get("node_uuid"), a.nodeId)
      await clean(a.nodeId.toUpperCase(), [])
      assert.equal(await boot.fetchConfig(a.macs[0]!), null)
    })
  })
