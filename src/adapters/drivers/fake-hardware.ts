// The "fake-hardware" driver: simulated ports wired together so a node behaves like a machine with
// a deploy ramdisk. When a node powers on (or reboots) while its PXE config says `deploy`, the
// simulated ramdisk calls back with the key from that config, as the real ramdisk would over HTTP.
import { Effect } from "effect"
import type { Hardware } from "../../application/conductor/hardware.ts"
import type { BmcAccess, BootConfigurator, DeployBoot, PowerDriver } from "../../ports/index.ts"

export interface RamdiskBoot {
  readonly nodeId: string
  readonly boot: DeployBoot
}

export interface FakeHardwareOptions {
  /** How long the simulated ramdisk takes to "boot" before calling back. */
  readonly callbackDelayMs: number
  /** Called when a simulated ramdisk has booted; the composition root posts pass_deploy_info. */
  readonly onRamdiskBoot: (boot: RamdiskBoot) => void
}

export const makeFakeHardware = (parts: Omit<Hardware, "ramdisk" | "simulated">, options: FakeHardwareOptions): Hardware => {
  // Fake-hardware nodes are addressed by their UUID (see bmcOf), so the BMC address names the node.
  const deployConfigs = new Map<string, DeployBoot>()
  const forget = (id: string) => Effect.sync(() => deployConfigs.delete(id))
  const boot: BootConfigurator["Service"] = {
    ...parts.boot,
    prepareDeploy: (b) => Effect.tap(parts.boot.prepareDeploy(b), () => Effect.sync(() => deployConfigs.set(b.nodeId, b))),
    switchToBoot: (id, root) => Effect.tap(parts.boot.switchToBoot(id, root), () => forget(id)),
    switchToRescue: (id) => Effect.tap(parts.boot.switchToRescue(id), () => forget(id)),
    clean: (id, macs) => Effect.tap(parts.boot.clean(id, macs), () => forget(id)),
  }
  const bootsRamdisk = (bmc: BmcAccess) =>
    Effect.sync(() => {
      const config = deployConfigs.get(bmc.address)
      if (config === undefined) return
      setTimeout(() => options.onRamdiskBoot({ nodeId: bmc.address, boot: config }), options.callbackDelayMs)
    })
  const power: PowerDriver["Service"] = {
    ...parts.power,
    powerOn: (bmc) => Effect.tap(parts.power.powerOn(bmc), () => bootsRamdisk(bmc)),
    reboot: (bmc) => Effect.tap(parts.power.reboot(bmc), () => bootsRamdisk(bmc)),
  }
  return { ...parts, boot, power, ramdisk: { release: () => Effect.void }, simulated: true }
}
