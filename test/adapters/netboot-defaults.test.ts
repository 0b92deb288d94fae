// The pxe boot interface and the default deploy images: a node without deploy_kernel/deploy_ramdisk
// is refused until a ramdisk is recorded in the image store (as `ramdisk build` does), then boots
// it; given defaults win over the record; extra kernel arguments reach every PXE config.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import { makeNetboot } from "../../src/adapters/netboot/index.ts"
import { writeDefaultDeployImages } from "../../src/adapters/ramdisk/build/register.ts"
import { initialState } from "../../src/domain/node-state.ts"
import type { BootInterface } from "../../src/application/hardware/interfaces.ts"
import type { Mac, Uuid } from "../../src/domain/index.ts"

const NODE = "3f2c8a9e-1b7d-4c5e-9f0a-2d6b8e4c1a73" as Uuid
const node = { ...initialState(NODE), driver: "ipmi", ports: [{ portId: NODE, mac: "52:54:00:12:34:56" as Mac, addedAt: "" }] } as never
const k = "a".repeat(64), r = "b".repeat(64)

const bootOf = (stateDir: string, extra: Record<string, unknown> = {}) =>
  Effect.runPromise(Effect.scoped(Effect.map(makeNetboot({ stateDir, ...extra }), (n) => n.vendor.interfaces.find((i) => i.slot === "boot") as BootInterface)))

test("deploy_kernel/deploy_ramdisk are required only while no default deploy images are recorded", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-netboot-"))
  try {
    const without = await bootOf(dir)
    assert.match(without.validate!(node) ?? "", /Missing are: deploy_kernel, deploy_ramdisk\.$/)
    assert.equal(without.defaultDeployImages, undefined)
    assert.ok(without.properties.find((p) => p.name === "deploy_kernel")?.required)

    await writeDefaultDeployImages(join(dir, "images"), { kernel: k, ramdisk: r })
    const recorded = await bootOf(dir)
    assert.equal(recorded.validate!(node), null)
    assert.deepEqual(recorded.defaultDeployImages, { kernel: k, ramdisk: r })
    assert.ok(!recorded.properties.find((p) => p.name === "deploy_kernel")?.required)

    const given = await bootOf(dir, { defaultDeployImages: { kernel: r, ramdisk: k } })
    assert.deepEqual(given.defaultDeployImages, { kernel: r, ramdisk: k })

    // A damaged record counts as none.
    writeFileSync(join(dir, "images", "deploy-images.json"), "{")
    assert.match((await bootOf(dir)).validate!(node) ?? "", /Missing are/)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test("appendParams reach the PXE config and a running dnsmasq is told the boot MACs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ironledger-netboot-"))
  try {
    const told: Array<ReadonlyArray<string>> = []
    const boot = await bootOf(dir, { appendParams: "console=ttyS0", runningDnsmasq: { changeBootMacs: (c: { add: ReadonlyArray<string> }) => Effect.sync(() => { told.push(c.add) }) } })
    const file = join(dir, "blob")
    writeFileSync(file, "x")
    await Effect.runPromise(boot.configurator.prepareDeploy({
      nodeId: NODE, macs: ["52:54:00:12:34:56" as Mac], deployKernel: file, deployRamdisk: file, kernel: null, ramdisk: null,
      deployId: "d1", deployKey: "key-of-this-deploy-0001", iscsiIqn: `iqn.2010-10.org.openstack:${NODE}`, apiUrl: "http://10.213.0.1:6385",
    }))
    const config = readFileSync(join(dir, "tftpboot", NODE, "config"), "utf8")
    assert.match(config, /ironic_api_url=http:\/\/10\.213\.0\.1:6385 .*console=ttyS0/)
    assert.ok(told.some((macs) => macs.includes("52:54:00:12:34:56")), JSON.stringify(told))
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
