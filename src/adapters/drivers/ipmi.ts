// The "ipmi" driver: real hardware. Power through ipmitool, PXE configs in a TFTP tree served by a
// managed dnsmasq, images written over iSCSI by qemu-img, images kept in a content-addressed store.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import type { Hardware } from "../../application/conductor/hardware.ts"
import { makeFsImageStore } from "../images/fs-image-store.ts"
import type { IpmitoolConfig } from "../ipmi/config.ts"
import { makeIpmitoolPowerDriver } from "../ipmi/ipmitool-power-driver.ts"
import { iscsiBlockWriter } from "../iscsi/iscsi-block-writer.ts"
import { startDnsmasq, type DnsmasqSettings } from "../pxe/dnsmasq.ts"
import { makePxeBootConfigurator } from "../pxe/pxe-boot-configurator.ts"
import { releaseOverTcp } from "../ramdisk/tcp.ts"

export interface IpmiDriverConfig {
  /** TFTP tree, image store and scratch space live below it. */
  readonly stateDir: string
  readonly ipmitool?: Partial<IpmitoolConfig>
  /** A dnsmasq to run for the TFTP tree; without it, the tree is served by something else. */
  readonly dnsmasq?: Omit<DnsmasqSettings, "tftpRoot">
  /** Bound on telling a ramdisk "done". */
  readonly ramdiskReleaseTimeoutMs?: number
}

export const tftpRootOf = (stateDir: string) => join(stateDir, "tftpboot")

/** Builds the driver in the current scope (dnsmasq, when asked for, stops with it). */
export const makeIpmiDriver = (config: IpmiDriverConfig) =>
  Effect.gen(function* () {
    const tftpRoot = tftpRootOf(config.stateDir)
    const dnsmasq = config.dnsmasq === undefined ? undefined : yield* startDnsmasq({ ...config.dnsmasq, tftpRoot })
    const boot = yield* Effect.promise(() => makePxeBootConfigurator({ tftpRoot, ...(dnsmasq ? { dnsmasq } : {}) }))
    const images = yield* Effect.promise(() => makeFsImageStore({ root: join(config.stateDir, "images") }))
    const scratchDir = join(config.stateDir, "scratch")
    mkdirSync(scratchDir, { recursive: true })
    const hardware: Hardware = {
      power: makeIpmitoolPowerDriver(config.ipmitool),
      boot,
      block: iscsiBlockWriter({ scratchDir }),
      images,
      ramdisk: { release: (address, port) => releaseOverTcp(address, port, config.ramdiskReleaseTimeoutMs ?? 10_000) },
      simulated: false,
    }
    return hardware
  })
