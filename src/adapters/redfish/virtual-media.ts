// The "redfish-virtual-media" boot interface (Ironic's): the deploy ramdisk boots from an ISO the
// BMC mounts as a virtual CD, never from the network. The configurator builds the node's ISO
// (deploy kernel and ramdisk, the PXE config's kernel command line) in its own 0700 directory;
// `media.apply` publishes it under an unguessable URL and has the BMC insert it (InsertMedia on
// the manager's virtual CD), and after the deploy, or on clean-up, ejects it, stops serving it and
// removes it. The plan sets boot device Cd once before the ramdisk's boot (ADR 0074). A rescue
// boots the same ramdisk in rescue mode from an ISO of its own, with the rescue's key only; unrescue
// ejects it and boots the instance as after its deploy (ADR 0145).
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type { Act, BootInterface, ManagementInterface } from "../../application/hardware/interfaces.ts"
import type { NodeState } from "../../domain/index.ts"
import type { Mac } from "../../domain/values.ts"
import { BootConfigFailed, type BootConfigurator, type ImageStore } from "../../ports/index.ts"
import { buildBootIso, buildInstanceIso, buildRescueIso } from "./boot-iso.ts"
import type { RedfishClient } from "./client.ts"
import { makeMediaServer, type MediaServer } from "./media-server.ts"
import { checkInfo, validate as validateBmc } from "./settings.ts"
import { actionTarget, linkOf, systemOf } from "./system.ts"

export interface VirtualMediaConfig {
  /** ISOs are built and kept below it, one 0700 directory per node. */
  readonly stateDir: string
  /** Where deploy kernels and ramdisks are read from. */
  readonly images: ImageStore["Service"]
  /** Deploy kernel and ramdisk (image ids) for nodes whose driver_info names none. */
  readonly defaultDeployImages?: { readonly kernel: string; readonly ramdisk: string } | null
  /** Extra kernel arguments (e.g. "console=ttyS0"), as the PXE config's. */
  readonly appendParams?: string
  /** The address the ISO server listens on: one the BMCs reach. Default 127.0.0.1. */
  readonly listenHost?: string
  /**
   * A DHCP server that answers only the MACs it is given: told the MACs of the nodes whose ISO is
   * out, whose ramdisk takes its address by DHCP (with no TFTP file to find).
   */
  readonly dhcp?: { readonly setBootMacs: (macs: ReadonlyArray<Mac>) => Effect.Effect<void, { readonly message: string }> }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const missing = (keys: ReadonlyArray<string>, from: Readonly<Record<string, unknown>>) =>
  keys.filter((k) => from[k] === undefined || from[k] === null || from[k] === "")

/** The node's virtual CD: the first VirtualMedia of its manager that takes a CD or DVD. */
const virtualCd = (client: RedfishClient, n: NodeState) =>
  Effect.gen(function* () {
    const s = yield* systemOf(client, n)
    const managerPath = linkOf(s.system, "Links", "ManagedBy")
    if (managerPath === null) return yield* Effect.fail({ message: `${s.path} names no manager (Links.ManagedBy): no virtual media` })
    const manager = yield* client.get(s.bmc, managerPath)
    const collectionPath = linkOf(manager, "VirtualMedia")
    if (collectionPath === null) return yield* Effect.fail({ message: `the BMC's manager ${managerPath} has no VirtualMedia` })
    const members = (yield* client.get(s.bmc, collectionPath))["Members"]
    for (const m of Array.isArray(members) ? members : []) {
      const path = (m as { "@odata.id"?: unknown })["@odata.id"]
      if (typeof path !== "string") continue
      const media = yield* client.get(s.bmc, path)
      const types = media["MediaTypes"]
      if (Array.isArray(types) && types.some((t) => t === "CD" || t === "DVD")) return { bmc: s.bmc, path, media }
    }
    return yield* Effect.fail({ message: `the BMC's manager ${managerPath} has no virtual CD or DVD` })
  })

export const redfishVirtualMedia = (client: RedfishClient, management: ManagementInterface, config: VirtualMediaConfig): BootInterface & { readonly close: () => Promise<void> } => {
  const root = join(config.stateDir, "virtual-media")
  const server: MediaServer = makeMediaServer(config.listenHost ?? "127.0.0.1")
  const defaults = config.defaultDeployImages ?? null
  const dirOf = (nodeId: string) => join(root, nodeId)
  const isoOf = (nodeId: string) => join(dirOf(nodeId), "boot.iso")
  /** After a partition image's deploy: the instance's kernel and ramdisk, booted from the CD as PXE would netboot them. */
  const instanceIsoOf = (nodeId: string) => join(dirOf(nodeId), "instance.iso")
  /** While rescuing and rescued: the deploy ramdisk in rescue mode, with the rescue's key. */
  const rescueIsoOf = (nodeId: string) => join(dirOf(nodeId), "rescue.iso")
  const exists = (path: string) => stat(path).then(() => true, () => false)

  const attempt = <A>(nodeId: string, what: string, work: () => Promise<A>) =>
    Effect.tryPromise({ try: work, catch: (e) => new BootConfigFailed({ nodeId, reason: `${what}: ${(e as Error).message}` }) })
  const checked = (nodeId: string) =>
    UUID.test(nodeId) ? Effect.void : Effect.fail(new BootConfigFailed({ nodeId, reason: "not a node UUID" }))

  /** The DHCP server answers the MACs of every node whose ISO is out. */
  const publishMacs = (nodeId: string) => config.dhcp === undefined ? Effect.void : Effect.gen(function* () {
    const macs = yield* attempt(nodeId, "listing the nodes with an ISO", async () => {
      const all: string[] = []
      for (const id of await readdir(root).catch(() => [])) {
        // A node whose ramdisk (deploy or rescue) is out takes its address by DHCP.
        const iso = (await exists(isoOf(id))) || (await exists(rescueIsoOf(id)))
        if (iso) all.push(...(await readFile(join(dirOf(id), "macs"), "utf8").catch(() => "")).split("\n").filter((m) => m !== ""))
      }
      return all
    })
    yield* config.dhcp!.setBootMacs(macs as unknown as ReadonlyArray<Mac>).pipe(Effect.mapError((e) => new BootConfigFailed({ nodeId, reason: `DHCP hosts update: ${e.message}` })))
  })

  const configurator: BootConfigurator["Service"] = {
    prepareDeploy: (boot) => Effect.gen(function* () {
      yield* checked(boot.nodeId)
      const dir = dirOf(boot.nodeId)
      yield* attempt(boot.nodeId, "making its directory", () => mkdir(dir, { recursive: true, mode: 0o700 }))
      yield* buildBootIso({
        nodeId: boot.nodeId, deployId: boot.deployId, deployKey: boot.deployKey, iscsiIqn: boot.iscsiIqn, apiUrl: boot.apiUrl,
        bootMac: boot.macs[0] ?? null, appendParams: config.appendParams ?? "",
      }, boot.deployKernel, boot.deployRamdisk, isoOf(boot.nodeId), dir).pipe(Effect.mapError((e) => new BootConfigFailed({ nodeId: boot.nodeId, reason: e.message })))
      yield* attempt(boot.nodeId, "recording its label", async () => {
        await rm(instanceIsoOf(boot.nodeId), { force: true })
        const instance = boot.kernel !== null && boot.ramdisk !== null ? { kernel: boot.kernel, ramdisk: boot.ramdisk } : null
        await writeFile(join(dir, "instance.json"), JSON.stringify(instance), { mode: 0o600 })
        await writeFile(join(dir, "macs"), boot.macs.join("\n"), { mode: 0o600 })
        await writeFile(join(dir, "label"), "deploy", { mode: 0o600 })
      })
      yield* publishMacs(boot.nodeId)
    }),
    // The deploy is over: its ISO (and the key in it) goes. A whole-disk image boots its disk; a
    // partition image (no boot loader of its own) its kernel and ramdisk, from an ISO of their own.
    switchToBoot: (nodeId, rootUuid) => Effect.gen(function* () {
      yield* checked(nodeId)
      yield* attempt(nodeId, "removing its ISO", async () => {
        await rm(isoOf(nodeId), { force: true })
        await rm(rescueIsoOf(nodeId), { force: true })
        await mkdir(dirOf(nodeId), { recursive: true, mode: 0o700 })
      })
      if (rootUuid !== null) {
        const instance = yield* attempt(nodeId, "reading the instance's kernel and ramdisk", async () =>
          JSON.parse(await readFile(join(dirOf(nodeId), "instance.json"), "utf8").catch(() => "null")) as { kernel: string; ramdisk: string } | null)
        if (instance === null) return yield* Effect.fail(new BootConfigFailed({ nodeId, reason: "a partition image boots from virtual media only with instance_info kernel and ramdisk" }))
        yield* buildInstanceIso(nodeId, rootUuid, config.appendParams ?? "", instance.kernel, instance.ramdisk, instanceIsoOf(nodeId), dirOf(nodeId))
          .pipe(Effect.mapError((e) => new BootConfigFailed({ nodeId, reason: e.message })))
      } else {
        yield* attempt(nodeId, "removing the instance's ISO", () => rm(instanceIsoOf(nodeId), { force: true }))
      }
      yield* attempt(nodeId, "recording its label", () => writeFile(join(dirOf(nodeId), "label"), "boot", { mode: 0o600 }))
      yield* publishMacs(nodeId)
    }),
    // The rescue ISO: the deploy ramdisk in rescue mode, the rescue's key, the boot NIC; never the
    // password, which the ramdisk fetches (as its hash) over the API with the key (ADR 0095).
    switchToRescue: (nodeId, rescueKey, boot) => Effect.gen(function* () {
      yield* checked(nodeId)
      if (boot === undefined) return yield* Effect.fail(new BootConfigFailed({ nodeId, reason: "a rescue through virtual media needs the deploy kernel and ramdisk" }))
      const dir = dirOf(nodeId)
      yield* attempt(nodeId, "making its directory", () => mkdir(dir, { recursive: true, mode: 0o700 }))
      yield* buildRescueIso({ nodeId, rescueKey: rescueKey ?? null, apiUrl: boot.apiUrl, bootMac: boot.macs[0] ?? null, appendParams: config.appendParams ?? "" },
        boot.deployKernel, boot.deployRamdisk, rescueIsoOf(nodeId), dir).pipe(Effect.mapError((e) => new BootConfigFailed({ nodeId, reason: e.message })))
      yield* attempt(nodeId, "recording its label", async () => {
        await writeFile(join(dir, "macs"), boot.macs.join("\n"), { mode: 0o600 })
        await writeFile(join(dir, "label"), "rescue", { mode: 0o600 })
      })
      yield* publishMacs(nodeId)
    }),
    currentLabel: (nodeId) => Effect.gen(function* () {
      yield* checked(nodeId)
      const label = yield* attempt(nodeId, "reading its label", () => readFile(join(dirOf(nodeId), "label"), "utf8").catch(() => null))
      return label === "deploy" || label === "boot" || label === "rescue" ? label : null
    }),
    clean: (nodeId) => Effect.gen(function* () {
      yield* checked(nodeId)
      yield* attempt(nodeId, "removing its ISO", () => rm(dirOf(nodeId), { recursive: true, force: true }))
      yield* publishMacs(nodeId)
    }),
  }

  const eject = (n: NodeState) => Effect.gen(function* () {
    const cd = yield* virtualCd(client, n)
    if (cd.media["Inserted"] !== true && (cd.media["Image"] ?? null) === null) return
    yield* client.send(cd.bmc, "POST", yield* actionTarget(cd.media, "#VirtualMedia.EjectMedia", cd.path), {})
  })
  const withdraw = (n: NodeState) => Effect.promise(() => server.withdraw(n.nodeId))

  /** A medium left in (an earlier deploy, another tool) is ejected first, as Ironic does. */
  const insert = (n: NodeState, iso: string) => Effect.gen(function* () {
    yield* eject(n)
    yield* withdraw(n)
    const url = yield* Effect.promise(() => server.publish(n.nodeId, iso))
    const cd = yield* virtualCd(client, n)
    yield* client.send(cd.bmc, "POST", yield* actionTarget(cd.media, "#VirtualMedia.InsertMedia", cd.path), {
      Image: url, Inserted: true, WriteProtected: true,
    })
  })

  const apply = (n: NodeState, label: "deploy" | "boot" | "rescue" | null): Act<void> => Effect.gen(function* () {
    switch (label) {
      case "deploy":
        return yield* insert(n, isoOf(n.nodeId))
      case "boot":
        if (yield* Effect.promise(() => exists(instanceIsoOf(n.nodeId)))) {
          // The instance's kernel from the CD at every boot, as PXE netboots it.
          yield* insert(n, instanceIsoOf(n.nodeId))
          yield* management.setBootDevice(n, "cdrom", true)
          return
        }
        yield* eject(n)
        yield* withdraw(n)
        // The image is on the disk with its boot loader: it boots from there from now on.
        yield* management.setBootDevice(n, "disk", true)
        return
      case null:
        yield* withdraw(n)
        yield* eject(n)
        return
      case "rescue":
        // Booted once from the CD (the plan's boot device step); unrescue's "boot" ejects it.
        return yield* insert(n, rescueIsoOf(n.nodeId))
    }
  })

  return {
    slot: "boot", name: "redfish-virtual-media",
    description: "The deploy ramdisk boots from an ISO the BMC mounts as a virtual CD (Redfish InsertMedia); no PXE or TFTP.",
    properties: [
      { name: "deploy_kernel", description: "The deploy ramdisk's kernel: an image id (sha256) in the image store or a local path.", ...(defaults === null ? { required: true as const } : {}) },
      { name: "deploy_ramdisk", description: "The deploy ramdisk's initramfs: an image id (sha256) in the image store or a local path.", ...(defaults === null ? { required: true as const } : {}) },
    ],
    checkInfo,
    validate: (n) => {
      const bmc = validateBmc(n)
      if (bmc !== null) return bmc
      const absent = defaults === null ? missing(["deploy_kernel", "deploy_ramdisk"], n.driverInfo) : []
      return absent.length > 0 ? `Cannot validate virtual media boot: some parameters were missing in node's driver_info. Missing are: ${absent.join(", ")}.` : null
    },
    configurator,
    images: config.images,
    ...(defaults === null ? {} : { defaultDeployImages: defaults }),
    media: { device: "cdrom", apply },
    close: () => server.close(),
  }
}
