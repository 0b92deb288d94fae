// Booting and deploying over the network, for every hardware type with a real BMC: the "pxe" boot
// interface (PXE configs in a TFTP tree served by a managed dnsmasq) and the "iscsi" deploy
// interface (the seeds' deploy: the ramdisk exports the disk, qemu-img writes the image over
// iSCSI, the ramdisk is told "done" on TCP), with images kept in a content-addressed store.
import { agentSteps } from "../../application/cleaning/agent-steps.ts"
import { existsSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import * as Effect from "effect/Effect"
import { bootModeOf } from "../../domain/boot-mode.ts"
import type { BootInterface, DeployInterface } from "../../application/hardware/interfaces.ts"
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import type { ImageStore } from "../../ports/index.ts"
import { makeFsImageStore } from "../images/fs-image-store.ts"
import { fsConfigDriveMedia } from "../configdrive/media.ts"
import { iscsiBlockWriter } from "../iscsi/iscsi-block-writer.ts"
import { startDnsmasq, type Dnsmasq, type DnsmasqSettings } from "../pxe/dnsmasq.ts"
import { makePxeBootConfigurator } from "../pxe/pxe-boot-configurator.ts"
import { makeDiscoveryBoot } from "./discovery.ts"
import { readDefaultDeployImages, type DeployImages } from "../ramdisk/build/register.ts"
import { releaseOverTcp } from "../ramdisk/tcp.ts"

export interface NetbootConfig {
  /** TFTP tree, image store and scratch space live below it. */
  readonly stateDir: string
  /** A dnsmasq to run for the TFTP tree; without it, the tree is served by something else. */
  readonly dnsmasq?: Omit<DnsmasqSettings, "tftpRoot">
  /** A dnsmasq already serving the TFTP tree (e.g. a VM rack's), kept in step instead of starting one. */
  readonly runningDnsmasq?: Pick<Dnsmasq, "changeBootMacs">
  /** Extra kernel arguments in every PXE config (e.g. "console=ttyS0"). */
  readonly appendParams?: string
  /** Deploy images for nodes without deploy_kernel/deploy_ramdisk; default: those `ramdisk build` recorded in the store. */
  readonly defaultDeployImages?: DeployImages
  /** Bound on telling a ramdisk "done". */
  readonly ramdiskReleaseTimeoutMs?: number
}

export interface Netboot {
  readonly vendor: Vendor
  readonly images: ImageStore["Service"]
  /** Boots machines no node knows into the default deploy ramdisk's discovery mode (ADR 0090). */
  readonly discoveryBoot: (apiUrl: string) => Promise<void>
}

/** What UEFI firmware is offered (the rack's dnsmasq serves it beside pxelinux.0). */
const UEFI_LOADER = "syslinux.efi"

export const tftpRootOf = (stateDir: string) => join(stateDir, "tftpboot")

const missing = (keys: ReadonlyArray<string>, from: Readonly<Record<string, unknown>>) =>
  keys.filter((k) => from[k] === undefined || from[k] === null || from[k] === "")

/** Builds the interfaces in the current scope (dnsmasq, when asked for, stops with it). */
export const makeNetboot = (config: NetbootConfig) =>
  Effect.gen(function* () {
    const tftpRoot = tftpRootOf(config.stateDir)
    const dnsmasq = config.dnsmasq === undefined ? config.runningDnsmasq : yield* startDnsmasq({ ...config.dnsmasq, tftpRoot })
    const configurator = yield* Effect.promise(() => makePxeBootConfigurator({
      tftpRoot, ...(dnsmasq ? { dnsmasq } : {}), ...(config.appendParams === undefined ? {} : { appendParams: config.appendParams }),
    }))
    const images = yield* Effect.promise(() => makeFsImageStore({ root: join(config.stateDir, "images") }))
    const defaults = config.defaultDeployImages ?? (yield* Effect.promise(() => readDefaultDeployImages(join(config.stateDir, "images"))))
    const scratchDir = join(config.stateDir, "scratch")
    mkdirSync(scratchDir, { recursive: true })
    const boot: BootInterface = {
      slot: "boot", name: "pxe", description: "PXE (pxelinux) configs per node and MAC links, served over TFTP by a managed dnsmasq.",
      properties: [
        { name: "deploy_kernel", description: "The deploy ramdisk's kernel: an image id (sha256) in the image store or a local path.", ...(defaults === null ? { required: true as const } : {}) },
        { name: "deploy_ramdisk", description: "The deploy ramdisk's initramfs: an image id (sha256) in the image store or a local path.", ...(defaults === null ? { required: true as const } : {}) },
      ],
      validate: (n) => {
        const absent = defaults === null ? missing(["deploy_kernel", "deploy_ramdisk"], n.driverInfo) : []
        if (absent.length > 0) return `Cannot validate PXE boot: some parameters were missing in node's driver_info. Missing are: ${absent.join(", ")}.`
        // The firmware picks its loader by the architecture it announces over DHCP (ADR 0080): a
        // UEFI node needs the UEFI loader in the tree it boots from.
        const mode = bootModeOf(n)
        if (E.isLeft(mode)) return `Cannot validate PXE boot: ${mode.left}.`
        if (mode.right === "uefi" && !existsSync(join(tftpRoot, UEFI_LOADER)))
          return `Cannot validate PXE boot: node ${n.nodeId} boots in UEFI mode but the TFTP root has no UEFI loader (${UEFI_LOADER}).`
        return n.ports.length === 0 ? `Node ${n.nodeId} does not have any port associated with it.` : null
      },
      configurator, images,
      ...(defaults === null ? {} : { defaultDeployImages: defaults }),
    }
    const deploy: DeployInterface = {
      slot: "deploy", name: "iscsi", description: "The deploy ramdisk exports the disk over iSCSI; the conductor partitions it and writes the image.",
      properties: [],
      validate: (n) => {
        const absent = missing(["image_source"], n.instanceInfo)
        return absent.length === 0 ? null
          : `Cannot validate iSCSI deploy: some parameters were missing in node's instance_info. Missing are: ${absent.join(", ")}.`
      },
      style: "ramdisk",
      block: iscsiBlockWriter({ scratchDir }),
      images,
      ramdisk: { release: (address, port) => releaseOverTcp(address, port, config.ramdiskReleaseTimeoutMs ?? 10_000) },
      imageOptional: false,
      configDrives: fsConfigDriveMedia(join(config.stateDir, "config-drives")),
      steps: agentSteps,
    }
    const discoveryBoot = makeDiscoveryBoot({ tftpRoot, images, defaults, ...(config.appendParams === undefined ? {} : { appendParams: config.appendParams }) })
    const netboot: Netboot = { vendor: { hardwareTypes: [], interfaces: [boot, deploy] }, images, discoveryBoot }
    return netboot
  })
