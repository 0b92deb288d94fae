// The "sim" hardware type: simulated machines with a simulated deploy ramdisk, for laptops and
// fast tests. A node is its own machine, addressed by its UUID (no BMC settings). When it powers on
// (or reboots) while its PXE config says `deploy`, its simulated ramdisk "exports" a disk file and
// calls back with the key from that config, as the real ramdisk does over HTTP. Nothing here
// touches real hardware or servers.
// With a diskDir, the PXE configs live in files there (tftp/), like a real TFTP root, and so do the
// ramdisk boots under way (boots/): every process given the same dir (an API and conductors, a
// conductor restarted after a crash) sees the same machines, and a ramdisk one process booted calls
// back even when that process dies before it does.
// Conductors on several hosts (ADR 0071) each give their own diskDir (the host's TFTP root and
// image cache) and one rackDir where the machines live: their disks, and the ramdisks booting. A
// machine boots what the host that powered it on serves (DHCP's next-server is that host), read
// at power-on, so a ramdisk keeps booting when that host dies.
import { createHash, randomBytes } from "node:crypto"
import { appendFileSync, closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { DeployCallback } from "../../application/node-service.ts"
import type { BootInterface, DeployInterface, ManagementInterface, PowerInterface } from "../../application/hardware/interfaces.ts"
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import type { NodeState } from "../../domain/index.ts"
import * as E from "fp-ts/lib/Either.js"
import { parseUuid } from "../../domain/values.ts"
import type { BlockWriter, BmcAccess } from "../../ports/index.ts"
import { makeBootConfigurator, type ConfiguratorOptions } from "../pxe/configurator.ts"
import { parsePxeConfig } from "../pxe/pxelinux-config.ts"
import { unsupportedSlots } from "../common/declared.ts"
import { makeSimBoot } from "./boot.ts"
import { makeSimFileTree } from "./boot-files.ts"
import { SimDisks, simBlockWriter } from "./block.ts"
import { makeSimImages, type SimImages } from "./images.ts"
import { fsConfigDriveMedia, memoryConfigDriveMedia } from "../configdrive/media.ts"
import { inspectForDeploy } from "../images/deploy-check.ts"
import { makeSimPower } from "./power.ts"
import { memoryIndicators } from "../../application/hardware/indicators.ts"
import { simConsoleOf } from "./console.ts"
import { makeRescueShadows } from "./rescue-shadow.ts"
import { agentSteps } from "../../application/cleaning/agent-steps.ts"
import { runAgentLoop, type AgentTransport } from "./agent-steps.ts"
import { defaultSimMachine, simInventory, type SimMachineSpec } from "./inventory.ts"

export interface SimHardwareOptions {
  /** How long a simulated ramdisk takes to "boot" before calling back. */
  readonly callbackDelayMs: number
  /**
   * Delivers a ramdisk's pass_deploy_info; the composition root hands it to NodeService. A promise
   * of false means it did not get through (e.g. this host is cut off): the boot is put back for
   * any process to deliver.
   */
  readonly callBack: (nodeId: string, callback: DeployCallback) => void | Promise<boolean>
  /**
   * Where simulated disks live (sparse files) and the PXE configs (tftp/), shared by every process
   * given this dir. Without it, nodes have no disk to write images to and configs stay in memory.
   */
  readonly diskDir?: string
  /**
   * Where the machines live when they are not on this host (conductors on several hosts): their
   * disks, exported disks and booting ramdisks, shared by every host. Default: diskDir. With it,
   * every BMC action is appended to `<rackDir>/bmc.jsonl` as {node, action, by, at}.
   */
  readonly rackDir?: string
  /** Who acts on the BMCs, for that journal (the conductor's name). */
  readonly actor?: string
  /** Size of a node's simulated disk. */
  readonly diskBytesOf?: (nodeId: string) => number
  /** Shared with whoever imports images for fake-hardware deploys. */
  readonly images?: SimImages
  /** How a simulated ramdisk asks for its in-band cleaning steps and reports them; absent: it runs none. */
  readonly agent?: (nodeId: string, key: string) => AgentTransport
  /** Told every linked MAC after each change of the host's links: its DHCP server's host list (ADR 0072). */
  readonly onLinksChanged?: ConfiguratorOptions["onLinksChanged"]
  /** What each machine is made of, for its inventory (default: defaultSimMachine). */
  readonly machineOf?: (nodeId: string) => SimMachineSpec | undefined
  /**
   * Where a simulated ramdisk posts its inventory with its key: true when taken (the node is
   * inspecting, so the ramdisk exports nothing and calls nothing back); absent: it posts none.
   */
  readonly inventory?: (nodeId: string, key: string, inventory: unknown) => Promise<boolean>
  /**
   * Where a simulated rescue ramdisk fetches its password hash and reports ready, with its key:
   * true when taken; absent: a rescue ramdisk reports nothing (its rescue times out).
   */
  readonly rescue?: (nodeId: string, key: string, setPassword: (hash: string) => void) => Promise<boolean>
}

export interface SimHardware {
  readonly vendor: Vendor
  readonly images: SimImages
  readonly disks: SimDisks
  /** Powers a node's machine on behind the service's back, as a person at the rack would. */
  readonly pressPowerButton: (nodeId: string) => Effect.Effect<void, { readonly message: string }>
  /** Stops delivering the call-backs of ramdisks booted by other processes. */
  readonly close: () => void
  /** Takes a node's BMC off the network (its commands time out), or puts it back. */
  readonly unplugBmc: (nodeId: string, unplugged: boolean) => void
}

const defaultDiskBytes = 8 * 1024 ** 3
/** How long a process that could not deliver a ramdisk's call-back leaves the rack's boots to others. */
const CLAIM_PAUSE_MS = 10_000

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

/** `rescue`: the PXE config boots the ramdisk in rescue mode (ADR 0095), `deployKey` is the rescue's key. */
interface DeployArgs { readonly nodeId: string; readonly deployKey: string; readonly iscsiIqn: string; readonly rescue?: true }
interface Boot { readonly nodeId: string; readonly due: number; readonly args: DeployArgs | null }

export const makeSimHardware = (options: SimHardwareOptions): SimHardware => {
  // An unplugged simulated BMC times out fast: tests of power failures need not wait ipmitool's 6 s.
  const simBmcs = makeSimPower({ unknownBmcs: "adopt", unreachableAfterMs: 300 })
  const power = simBmcs.driver
  const files = options.diskDir === undefined ? null : makeSimFileTree(join(options.diskDir, "tftp"))
  const memory = files === null ? makeSimBoot() : null
  const configurator = files === null ? memory!.configurator : makeBootConfigurator(files, options.onLinksChanged === undefined ? {} : { onLinksChanged: options.onLinksChanged })
  const images = options.images ?? makeSimImages()
  const rackDir = options.rackDir ?? options.diskDir
  const disks = rackDir === undefined ? new SimDisks() : new SharedSimDisks(rackDir)
  /** The root password hash each machine's running rescue ramdisk set (what its /etc/shadow holds). */
  const rescueShadows = makeRescueShadows(rackDir)
  const writer = simBlockWriter(disks)
  const block: BlockWriter["Service"] = options.diskDir === undefined
    // Without a disk dir the simulated machines have no disks: a cleaning finds nothing to wipe.
    ? { ...writer, wipe: () => Effect.void }
    : {
      ...writer,
      // The simulated image store hands out names, the writer reads files: put the bytes in one.
      writeImage: (req) => Effect.flatMap(imageFile(options.diskDir!, req.imagePath), (imagePath) => writer.writeImage({ ...req, imagePath })),
      inspect: (imagePath, check) => Effect.flatMap(imageFile(options.diskDir!, imagePath), (path) => inspectForDeploy(path, check)),
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
    if (E.isLeft(config)) return null
    const rescueKey = config.right.rescueKey ?? null
    if (config.right.defaultLabel === "rescue" && rescueKey !== null) {
      return { nodeId: id.right, deployKey: rescueKey, iscsiIqn: config.right.deploy.iscsiIqn, rescue: true }
    }
    if (config.right.defaultLabel !== "deploy" || config.right.deploy.deployKey === null) return null
    return { nodeId: id.right, deployKey: config.right.deploy.deployKey, iscsiIqn: config.right.deploy.iscsiIqn }
  }

  /** The simulated ramdisk: export the node's disk under CHAP, then post pass_deploy_info. */
  const ramdiskBoots = async (config: DeployArgs) => {
    // A rescue's ramdisk sets the password and reports its login up; it exports nothing (ADR 0095).
    if (config.rescue === true) {
      return options.rescue === undefined ? true
        : options.rescue(config.nodeId, config.deployKey, (hash) => { rescueShadows.set(config.nodeId, hash) })
    }
    // An inspection's ramdisk posts its inventory and is done (ADR 0058).
    if (options.inventory !== undefined) {
      const machine = options.machineOf?.(config.nodeId) ??
        defaultSimMachine(config.nodeId, options.diskBytesOf?.(config.nodeId) ?? defaultDiskBytes, cabledMacs.get(config.nodeId))
      if (await options.inventory(config.nodeId, config.deployKey, simInventory(machine))) return true
    }
    const target = { portal: "127.0.0.1", port: 3260, iqn: config.iscsiIqn, lun: 1 }
    const chap = { user: `sim-${randomBytes(4).toString("hex")}`, secret: randomBytes(12).toString("hex") }
    if (rackDir !== undefined) {
      mkdirSync(rackDir, { recursive: true })
      const path = join(rackDir, `${config.nodeId}.img`)
      const fd = openSync(path, "a")
      try { ftruncateSync(fd, options.diskBytesOf?.(config.nodeId) ?? defaultDiskBytes) } finally { closeSync(fd) }
      disks.attach(target, { path, chap: { user: chap.user, secret: Redacted.make(chap.secret) } })
    }
    const delivered = options.callBack(config.nodeId, {
      address: target.portal, port: target.port, iqn: target.iqn, lun: target.lun,
      key: config.deployKey, error: null, chapUser: chap.user, chapSecret: chap.secret,
    })
    // A cleaning's ramdisk then runs the in-band steps it is given; a deploy's is told there are none.
    const agent = options.agent
    if (agent !== undefined) {
      const dir = rackDir ?? options.diskDir
      const disk = dir === undefined ? null : join(dir, `${config.nodeId}.img`)
      void runAgentLoop(agent(config.nodeId, config.deployKey), disk, { pollMs: Math.max(5, options.callbackDelayMs), stopped: () => false })
    }
    return delivered
  }

  // Ramdisks booting, as files any process given the dir may deliver: {nodeId, due}. Claimed by
  // rename, so each boots once; the process that powered the machine on need not live that long.
  const bootsDir = rackDir === undefined ? null : join(rackDir, "boots")
  if (bootsDir !== null) mkdirSync(bootsDir, { recursive: true, mode: 0o700 })
  let claimsPausedUntil = 0
  const queueBoot = (boot: Boot) => writeFileSync(join(bootsDir!, `${boot.nodeId}.json`), JSON.stringify(boot))
  /** A delivery is over: its claim goes (a claim left by a dead host is put back by reclaim). */
  const dropClaim = (claim: string | undefined) => { if (claim !== undefined) rmSync(claim, { force: true }) }
  const boot = (nodeId: string, args: DeployArgs | null | undefined, claim?: string) => {
    const config = args !== undefined ? Promise.resolve(args) : deployArgsOf(nodeId).catch(() => null)
    void config.then(async (config) => {
      if (config === null) return dropClaim(claim)
      // Not delivered (this host cut off): another process, or a later round, tries again. This
      // process leaves the boots to the others for a while: a cut host, idle otherwise, would
      // claim each one first and keep it from the hosts that can deliver it.
      if (await ramdiskBoots(config) === false && bootsDir !== null) {
        claimsPausedUntil = Date.now() + CLAIM_PAUSE_MS
        queueBoot({ nodeId, due: Date.now() + 1000, args: config })
      }
      dropClaim(claim)
    })
  }
  const deliverDue = () => {
    if (bootsDir === null) return
    let names: string[]
    try { names = readdirSync(bootsDir) } catch { return }
    for (const name of names) {
      const claim = /^(.+\.json)\.claimed-(\d+)$/.exec(name)
      if (claim === null || Number(claim[2]) > Date.now() || existsSync(join(bootsDir, claim[1]!))) continue
      try { renameSync(join(bootsDir, name), join(bootsDir, claim[1]!)) } catch { /* another took it back */ }
    }
    if (Date.now() < claimsPausedUntil) return
    names = names.filter((f) => f.endsWith(".json"))
    for (const name of names) {
      const path = join(bootsDir, name)
      let due: Boot
      try { due = JSON.parse(readFileSync(path, "utf8")) } catch { continue }
      if (due.due > Date.now()) continue
      const claimed = `${path}.${process.pid}`
      try { renameSync(path, claimed) } catch { continue }
      if (options.rackDir === undefined) {
        rmSync(claimed, { force: true })
        boot(due.nodeId, undefined)
        continue
      }
      // Hosts die: a claim names its deadline, past which any process puts the boot back.
      const claim = `${path}.claimed-${Date.now() + 20_000}`
      try { renameSync(claimed, claim) } catch { continue }
      boot(due.nodeId, due.args, claim)
    }
  }
  const poller = bootsDir === null ? null : setInterval(deliverDue, Math.max(10, Math.min(100, options.callbackDelayMs)))
  poller?.unref()
  const bootsRamdisk = (nodeId: string) =>
    Effect.promise(async () => {
      if (bootsDir === null) { setTimeout(() => boot(nodeId, undefined), options.callbackDelayMs); return }
      // On several hosts the machine boots what this host serves, read now: the host may die next.
      const args = options.rackDir === undefined ? null : await deployArgsOf(nodeId).catch(() => null)
      if (options.rackDir !== undefined && args === null) return
      queueBoot({ nodeId, due: Date.now() + options.callbackDelayMs, args })
      setTimeout(deliverDue, options.callbackDelayMs).unref()
    })

  // Every BMC action, as the rack saw it: the multi-host test audits them against the leases.
  const journal = options.rackDir === undefined ? null : join(options.rackDir, "bmc.jsonl")
  // `at`: when the command reached the BMC; `done`: when the machine had acted on it (its
  // ramdisk queued). The lease must cover the command.
  const noted = <A, E>(n: NodeState, action: string, act: Effect.Effect<A, E>) =>
    journal === null ? act : Effect.suspend(() => {
      const at = Date.now()
      return Effect.tap(act, () => Effect.sync(() =>
        appendFileSync(journal, `${JSON.stringify({ node: n.nodeId, action, by: options.actor ?? "?", at, done: Date.now() })}\n`)))
    })

  // A machine is its node: its simulated BMC is keyed by the node's UUID, not by driver_info.
  const machineBmc = (nodeId: string): BmcAccess => ({ address: nodeId, port: 623, username: "", password: Redacted.make("") })
  const bmcOf = (n: NodeState) => machineBmc(n.nodeId)
  const description = "A simulated machine with a simulated deploy ramdisk, addressed by the node's UUID."
  // The NICs a machine has, as its node's ports named them when it was last powered on here.
  const cabledMacs = new Map<string, ReadonlyArray<string>>()
  const cabled = (n: NodeState) => Effect.sync(() => { if (n.ports.length > 0) cabledMacs.set(n.nodeId, n.ports.map((p) => p.mac)) })
  const forget = (n: NodeState) => Effect.sync(() => rescueShadows.clear(n.nodeId))
  const simPower: PowerInterface = {
    slot: "power", name: "sim", description, properties: [],
    status: (n) => power.status(bmcOf(n)),
    powerOn: (n) => noted(n, "power on", Effect.tap(Effect.andThen(cabled(n), power.powerOn(bmcOf(n))), () => bootsRamdisk(n.nodeId))),
    // Power off and reboot lose what the running ramdisk held, the rescue password's hash too.
    powerOff: (n) => noted(n, "power off", Effect.tap(power.powerOff(bmcOf(n)), () => forget(n))),
    softPowerOff: (n) => noted(n, "soft power off", Effect.tap(power.softPowerOff(bmcOf(n)), () => forget(n))),
    reboot: (n) => noted(n, "reboot", Effect.tap(Effect.andThen(cabled(n), Effect.tap(power.reboot(bmcOf(n)), () => forget(n))), () => bootsRamdisk(n.nodeId))),
  }
  const simManagement: ManagementInterface = {
    slot: "management", name: "sim", description, properties: [], indicators: memoryIndicators(),
    setBootDevice: (n, device, persistent) => noted(n, `boot device ${device}`, power.setBootDevice(bmcOf(n), device, persistent)),
    injectNmi: (n) => noted(n, "inject NMI", power.injectNmi(bmcOf(n))),
  }
  const needsPort = (n: NodeState) => (n.ports.length === 0 ? `Node ${n.nodeId} does not have any port associated with it.` : null)

  // The simulated ramdisk needs no real kernel, but the PXE config must name files that exist.
  const deployImage = (what: string) => Effect.runSync(images.importBytes(new TextEncoder().encode(`simulated ${what}\n`))).id
  const simBoot: BootInterface = {
    slot: "boot", name: "sim-pxe", description: "PXE configs the simulated machines boot from.", properties: [],
    validate: needsPort,
    configurator, images: images.store,
    defaultDeployImages: { kernel: deployImage("deploy kernel"), ramdisk: deployImage("deploy ramdisk") },
  }
  const simDeploy: DeployInterface = {
    slot: "deploy", name: "sim-iscsi", description: "Images written to the simulated machines' disk files.", properties: [],
    style: "ramdisk", block, images: images.store, ramdisk: { release: () => Effect.void }, imageOptional: true,
    configDrives: options.diskDir === undefined ? memoryConfigDriveMedia() : fsConfigDriveMedia(join(options.diskDir, "config-drives")),
    steps: agentSteps,
  }
  return {
    vendor: {
      hardwareTypes: [{
        name: "sim",
        description: "Simulated machines with a simulated deploy ramdisk (laptops, fast tests).",
        interfaces: { ...unsupportedSlots, power: ["sim"], management: ["sim"], boot: ["sim-pxe"], deploy: ["sim-iscsi"], console: ["sim", "no-console"], inspect: ["agent", "no-inspect"], rescue: ["agent", "no-rescue"], raid: ["no-raid", "agent"] },
      }],
      interfaces: [simPower, simManagement, simBoot, simDeploy, simConsoleOf(rescueShadows)],
    },
    images,
    disks,
    pressPowerButton: (nodeId) => power.powerOn(machineBmc(nodeId)),
    unplugBmc: (nodeId, unplugged) => simBmcs.setReachable(`${nodeId}:623`, !unplugged),
    close: () => { if (poller !== null) clearInterval(poller) },
  }
}
