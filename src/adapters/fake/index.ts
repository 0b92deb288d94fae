// Ironic's "fake-hardware": every interface fake, nothing real touched, no BMC, ports or images
// needed. manage, provide, deploy, rescue and inspect complete at once; the power state a fake
// power interface reports is the one the node's own log holds, so every conductor agrees on it.
import * as Effect from "effect/Effect"
import { declared, type BootInterface, type DeployInterface, type ManagementInterface, type PowerInterface } from "../../application/hardware/interfaces.ts"
import type { Vendor } from "../../application/hardware/hardware-type.ts"
import { makeSimImages } from "../sim/images.ts"
import { withFakeSteps } from "./steps.ts"

const description = "Does nothing: for tests and demonstrations, as Ironic's fake interfaces."

const power: PowerInterface = {
  slot: "power", name: "fake", description, properties: [], instant: true,
  status: (n) => Effect.succeed(n.powerState === "power on" ? "power on" : "power off"),
  powerOn: () => Effect.void,
  powerOff: () => Effect.void,
  softPowerOff: () => Effect.void,
  reboot: () => Effect.void,
}

const management: ManagementInterface = {
  slot: "management", name: "fake", description, properties: [], instant: true,
  setBootDevice: () => Effect.void,
}

const boot: BootInterface = {
  slot: "boot", name: "fake", description, properties: [], instant: true,
  configurator: {
    prepareDeploy: () => Effect.void,
    switchToBoot: () => Effect.void,
    switchToRescue: () => Effect.void,
    currentLabel: () => Effect.succeed(null),
    clean: () => Effect.void,
  },
  images: makeSimImages().store,
}

const deploy: DeployInterface = { slot: "deploy", name: "fake", description, properties: [], style: "instant" }

const fakeSlots = ["bios", "console", "firmware", "inspect", "raid", "rescue", "vendor"] as const

export const fakeHardware: Vendor = {
  hardwareTypes: [{
    name: "fake-hardware",
    description: "Fake hardware: every interface does nothing and succeeds at once.",
    interfaces: {
      power: ["fake"], management: ["fake"], boot: ["fake"], deploy: ["fake"],
      bios: ["fake", "no-bios"], console: ["fake", "no-console"], firmware: ["fake", "no-firmware"],
      inspect: ["fake", "no-inspect"], raid: ["fake", "no-raid"], rescue: ["fake", "no-rescue"],
      vendor: ["fake", "no-vendor"], network: ["noop"], storage: ["noop"],
    },
  }],
  interfaces: [power, management, boot, deploy, ...fakeSlots.map((slot) => withFakeSteps(declared(slot, "fake", description)))],
}
