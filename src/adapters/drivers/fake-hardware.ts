// The "fake-hardware" driver: the simulated ports wired together so a node behaves like a machine
// with a deploy ramdisk. When a node powers on (or reboots) while its PXE config says `deploy`, its
// simulated ramdisk "exports" a disk file and calls back with the key from that config, as the
// real ramdisk does over HTTP. Nothing here touches real hardware or servers.
// With a diskDir, the PXE configs live in files there (tftp/), like a real TFTP root: every process
// given the same dir (an API and conductors, a conductor restarted after a crash) sees the same
// machines, so a deploy one conductor began another can finish.
import { createHash, randomBytes } from "node:crypto"
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Redacted } from "effect"
import type { Hardware } from "../../application/conductor/hardware.ts"
import type { DeployCallback } from "../../application/node-service.ts"
import * as E from "fp-ts/lib/Either.js"
import { parseUuid } from "../../domain/values.ts"
import type { BlockWriter, BmcAccess, PowerDriver } from "../../ports/index.ts"
import { makeBootConfigurator } from "../pxe/configurator.ts"
import { parsePxeConfig } from "../pxe/pxelinux-config.ts"
import { makeSimBoot } from "../sim/boot.ts"
import { makeSimFileTree } from "../sim/boot-files.ts"
import { SimDisks, simBlockWriter } from "../sim/block.ts"
import { makeSimImages, type SimImages } from "../sim/images.ts"
import { makeSimPower } from "../sim/power.ts"

export interface FakeHardwareOptions {
  /** How long a simulated ramdisk takes to "boot" before calling back. */
  readonly callbackDelayMs: number
  /** Delivers a ramdisk's pass_deploy_info; the composition root hands it to NodeService. */
  readonly callBack: (nodeId: string, callback: DeployCallback) => void
  /**
   * Where simulated disks live (sparse files) and the PXE configs (tftp/), shared by every process
   * given this dir. Without it, nodes have no disk to write images to and configs stay in memory.
   */
  readonly diskDir?: string
  /** Size of a node's simulated disk. */
  readonly diskBytesOf?: (nodeId: string) => number
  /** Shared with whoever imports images for fake-hardware deploys. */
  readonly images?: SimImages
}

export interface FakeHardware {
  readonly hardware: Hardware
  readonly images: SimImages
  readonly disks: SimDisks
}

const defaultDiskBytes = 8 * 1024 ** 3

/**
 * Exported disks that every process given the same dir can find: the ramdisk that exported a disk
 * lives in the process that powered its machine on, while any conductor may write or wipe it.
 */
class SharedSimDisks extends SimDisks {
  readonly #dir: string
  constructor(dir: string) {
    super()
    this.#dir = join(dir, "exports")
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
  }
  #file(target: Parameters<SimDisks["lookup"]>[0]) {
    return join(this.#dir, `${createHash("sha256").update(`${target.portal}:${target.port}/${target.iqn}/${target.lun}`).digest("hex").slice(0, 32)}.json`)
  }
  override attach(target: Parameters<SimDisks["attach"]>[0], disk: Parameters<SimDisks["attach"]>[1]): void {
    super.attach(target, disk)
    const chap = disk.chap ? { user: disk.chap.user, secret: Redacted.value(disk.chap.secret) } : null
    writeFileSync(this.#file(target), JSON.stringify({ path: disk.path, chap }), { mode: 0o600 })
  }
  override lookup(target: Parameters<SimDisks["lookup"]>[0]) {
    const here = super.lookup(target)
    if (here !== undefined || !existsSync(this.#file(target))) return here
    const shared = JSON.parse(readFileSync(this.#file(target), "utf8")) as { path: string; chap: { user: string; secret: string } | null }
    return { path: shared.path, ...(shared.chap ? { chap: { user: shared.chap.user, secret: Redacted.make(shared.chap.secret) } } : {}) }
  }
}

interface DeployArgs { readonly nodeId: string; readonly deployKey: string; readonly iscsiIqn: string }

export const makeFakeHardware = (options: FakeHardwareOptions): FakeHardware => {
  const power = makeSimPower({ unknownBmcs: "adopt" }).driver
  const files = options.diskDir === undefined ? null : makeSimFileTree(join(options.diskDir, "tftp"))
  const memory = files === null ? makeSimBoot() : null
  const boot = files === null ? memory!.configurator : makeBootConfigurator(files)
  const images = options.images ?? makeSimImages()
  const disks = options.diskDir === undefined ? new SimDisks() : new SharedSimDisks(options.diskDir)
  const writer = simBlockWriter(disks)
  const block: BlockWriter["Service"] = options.diskDir === undefined
    // Without a disk dir the simulated machines have no disks: a cleaning finds nothing to wipe.
    ? { ...writer, wipe: () => Effect.void }
    : {
      ...writer,
      // The simulated image store hands out names, the writer reads files: put the bytes in one.
      writeImage: (req) => Effect.flatMap(imageFile(options.diskDir!, req.imagePath), (imagePath) => writer.writeImage({ ...req, imagePath })),
    }
  const imageFile = (dir: string, name: string) =>
    Effect.sync(() => {
      const bytes = images.bytesAt(name)
      if (bytes === undefined) return name
      const path = join(dir, "images", createHash("sha256").update(bytes).digest("hex"))
      mkdirSync(join(dir, "images"), { recursive: true })
      if (!existsSync(path)) writeFileSync(path, bytes)
      return path
    })

  /** What the machine's PXE firmware would boot: the deploy ramdisk's arguments, or null. */
  const deployArgsOf = async (nodeId: string): Promise<DeployArgs | null> => {
    const id = parseUuid(nodeId)
    if (E.isLeft(id)) return null
    const text = files === null ? memory!.configOf(id.right) : await files.readConfig(id.right)
    const config = text === null ? E.left("no config") : parsePxeConfig(text)
    if (E.isLeft(config) || config.right.defaultLabel !== "deploy" || config.right.deploy.deployKey === null) return null
    return { nodeId: id.right, deployKey: config.right.deploy.deployKey, iscsiIqn: config.right.deploy.iscsiIqn }
  }

  /** The simulated ramdisk: export the node's disk under CHAP, then post pass_deploy_info. */
  const ramdiskBoots = (config: DeployArgs) => {
    const target = { portal: "127.0.0.1", port: 3260, iqn: config.iscsiIqn, lun: 1 }
    const chap = { user: `sim-${randomBytes(4).toString("hex")}`, secret: randomBytes(12).toString("hex") }
    if (options.diskDir !== undefined) {
      mkdirSync(options.diskDir, { recursive: true })
      const path = join(options.diskDir, `${config.nodeId}.img`)
      const fd = openSync(path, "a")
      try { ftruncateSync(fd, options.diskBytesOf?.(config.nodeId) ?? defaultDiskBytes) } finally { closeSync(fd) }
      disks.attach(target, { path, chap: { user: chap.user, secret: Redacted.make(chap.secret) } })
    }
    options.callBack(config.nodeId, {
      address: target.portal, port: target.port, iqn: target.iqn, lun: target.lun,
      key: config.deployKey, error: null, chapUser: chap.user, chapSecret: chap.secret,
    })
  }

  // Fake-hardware nodes are addressed by their UUID (see bmcOf), so the BMC address names the node.
  const bootsRamdisk = (bmc: BmcAccess) =>
    Effect.promise(() => deployArgsOf(bmc.address).catch(() => null)).pipe(Effect.map((config) => {
      if (config !== null) setTimeout(() => ramdiskBoots(config), options.callbackDelayMs)
    }))

  const poweredPower: PowerDriver["Service"] = {
    ...power,
    powerOn: (bmc) => Effect.tap(power.powerOn(bmc), () => bootsRamdisk(bmc)),
    reboot: (bmc) => Effect.tap(power.reboot(bmc), () => bootsRamdisk(bmc)),
  }

  // The simulated ramdisk needs no real kernel, but the PXE config must name files that exist.
  const deployImage = (what: string) => Effect.runSync(images.importBytes(new TextEncoder().encode(`simulated ${what}\n`))).id
  return {
    hardware: {
      power: poweredPower, boot, block, images: images.store,
      ramdisk: { release: () => Effect.void },
      simulated: true,
      defaultDeployImages: { kernel: deployImage("deploy kernel"), ramdisk: deployImage("deploy ramdisk") },
    },
    images,
    disks,
  }
}
