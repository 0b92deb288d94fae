// bench:boot-scale, PXE part: the cost of one node's PXE config (prepareDeploy, then clean) with
// `size` other nodes already in the TFTP tree, through the real PXE configurator and a real dnsmasq
// that is told every change of MAC links. The tree is filled directly on disk, in the layout the
// adapter writes, so that filling 20,000 nodes costs seconds, not the thing being measured.
import { randomBytes, randomUUID } from "node:crypto"
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { startDnsmasq } from "../src/adapters/pxe/dnsmasq.ts"
import { makePxeBootConfigurator } from "../src/adapters/pxe/pxe-boot-configurator.ts"
import { renderPxeConfig } from "../src/adapters/pxe/pxelinux-config.ts"
import type { Iqn, Uuid } from "../src/domain/values.ts"
import type { DeployBoot } from "../src/ports/boot-configurator.ts"
import { cpuOfPid, percentile, stopOnInterrupt, type Row } from "./boot-scale-measure.ts"

const macOf = (i: number) => `52:54:${[(i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, "0")).join(":")}`

/** `size` nodes with a config and one MAC link each, as the adapter lays them out. */
const fillTree = (root: string, size: number) => {
  const cfg = join(root, "pxelinux.cfg")
  mkdirSync(cfg, { recursive: true, mode: 0o755 })
  for (let i = 0; i < size; i++) {
    const nodeId = randomUUID() as Uuid
    mkdirSync(join(root, nodeId), { mode: 0o755 })
    writeFileSync(join(root, nodeId, "config"), renderPxeConfig({
      nodeId, defaultLabel: "boot",
      deploy: { deployId: nodeId, deployKey: "k".repeat(32), iscsiIqn: `iqn.2026-11.org.ironledger:${nodeId}` as Iqn, apiUrl: "http://127.0.0.1:6385" },
      boot: { kind: "local" },
    }), { mode: 0o644 })
    symlinkSync(`../${nodeId}/config`, join(cfg, `01-${macOf(0x10000000 + i).replace(/:/g, "-")}`))
  }
}

export interface PxeBenchOptions {
  readonly sizes: ReadonlyArray<number>
  readonly ops: number
  /** A 127.x address of our own: another program may hold 127.0.0.1:69. */
  readonly listenAddress: string
  readonly dhcpPort: number
}

export const benchPxe = async (options: PxeBenchOptions): Promise<Row[]> => {
  const rows: Row[] = []
  for (const size of options.sizes) {
    const work = mkdtempSync(join(tmpdir(), "ironledger-bench-pxe-"))
    chmodSync(work, 0o755)
    const scope = Effect.runSync(Scope.make())
    const forget = stopOnInterrupt(() => Effect.runPromise(Scope.close(scope, Exit.void)))
    try {
      const tftpRoot = join(work, "tftp")
      const fillStart = performance.now()
      fillTree(tftpRoot, size)
      const fillMs = performance.now() - fillStart
      const images = join(work, "images")
      mkdirSync(images)
      for (const name of ["k", "r"]) writeFileSync(join(images, name), randomBytes(4096))
      const startedAt = performance.now()
      const dnsmasq = await Effect.runPromise(Scope.provide(scope)(startDnsmasq({
        tftpRoot, stateDir: join(work, "dnsmasq"), startTimeoutMs: 60_000,
        mode: { kind: "loopback", listenAddress: options.listenAddress, dhcpPort: options.dhcpPort },
      })))
      const dnsmasqStartMs = performance.now() - startedAt
      const configStart = performance.now()
      const port = await makePxeBootConfigurator({ tftpRoot, dnsmasq })
      const openMs = performance.now() - configStart
      const prepare: number[] = []
      const clean: number[] = []
      let prepareCpu = 0
      let cleanCpu = 0
      const cpu0 = process.cpuUsage()
      const dns0 = cpuOfPid(dnsmasq.pid)
      const wall0 = performance.now()
      for (let i = 0; i < options.ops; i++) {
        const nodeId = randomUUID()
        const boot: DeployBoot = {
          nodeId, macs: [macOf(i + 1)], deployKernel: join(images, "k"), deployRamdisk: join(images, "r"), kernel: null, ramdisk: null,
          deployId: nodeId, deployKey: randomBytes(24).toString("base64url"), iscsiIqn: `iqn.2026-11.org.ironledger:${nodeId}`,
          apiUrl: "http://127.0.0.1:6385",
        }
        let t = performance.now()
        let c = process.cpuUsage()
        await Effect.runPromise(port.prepareDeploy(boot))
        prepare.push(performance.now() - t)
        c = process.cpuUsage(c)
        prepareCpu += (c.user + c.system) / 1000
        t = performance.now()
        c = process.cpuUsage()
        await Effect.runPromise(port.clean(nodeId, boot.macs))
        clean.push(performance.now() - t)
        c = process.cpuUsage(c)
        cleanCpu += (c.user + c.system) / 1000
      }
      const wall = performance.now() - wall0
      const cpu = process.cpuUsage(cpu0)
      const dnsCpu = cpuOfPid(dnsmasq.pid) - dns0
      rows.push({
        part: "pxe+dhcp", scale: `${size} nodes in tree`,
        figures: {
          "prepare p50 ms": percentile(prepare, 50), "prepare p99 ms": percentile(prepare, 99),
          "clean p50 ms": percentile(clean, 50), "clean p99 ms": percentile(clean, 99),
          "prepare CPU ms": prepareCpu / options.ops, "clean CPU ms": cleanCpu / options.ops,
          "service CPU ms/op": (cpu.user + cpu.system) / 1000 / options.ops,
          "dnsmasq CPU ms/op": dnsCpu / options.ops,
          "wall ms/op": wall / options.ops,
          "fill s": fillMs / 1000, "dnsmasq start s": dnsmasqStartMs / 1000, "configurator open s": openMs / 1000,
        },
      })
    } finally {
      forget()
      await Effect.runPromise(Scope.close(scope, Exit.void))
      rmSync(work, { recursive: true, force: true })
    }
  }
  return rows
}
