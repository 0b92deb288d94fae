// The simulated PowerDriver ("fake-hardware"): chassis power and boot device per BMC, in memory.
// It keeps the promises the ipmitool adapter keeps (credentials checked, pacing, an unreachable
// BMC times out), so the application sees the same behaviour from both.
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import {
  BmcAuthFailed, BmcTimeout, BmcUnsupported, PowerDriver,
  type BmcAccess, type BootDevice, type ChassisPower, type PowerError,
} from "../../ports/power-driver.ts"
import { bmcKey } from "../ipmi/argv.ts"
import { makeBmcPacer } from "../ipmi/pacer.ts"

export interface SimBmcSpec {
  readonly address: string
  readonly port: number
  readonly username: string
  readonly password: string
  /** Whether the machine honours an ACPI soft power off; default true. */
  readonly softPowerOff?: boolean
  readonly power?: ChassisPower
}

export interface PowerChange {
  /** address:port */
  readonly bmc: string
  readonly address: string
  readonly power: ChassisPower
  readonly cause: "on" | "off" | "soft" | "reboot"
}

export interface SimPowerOptions {
  readonly bmcs?: ReadonlyArray<SimBmcSpec>
  /**
   * A BMC nobody declared: "adopt" creates it (powered off) with the credentials first presented,
   * as fake-hardware nodes addressed by UUID need; "unreachable" times out, as a wrong address does.
   * Default "adopt".
   */
  readonly unknownBmcs?: "adopt" | "unreachable"
  /** How long an unreachable BMC keeps the caller before BmcTimeout; default 6000 ms (ipmitool's default bound). */
  readonly unreachableAfterMs?: number
  /** Pause between two commands to one BMC when its BmcAccess does not say; default 0. */
  readonly defaultMinCommandIntervalMs?: number
  /** Called on every change of chassis power, after it happened: where a simulator boots or halts the machine. */
  readonly onPowerChange?: (change: PowerChange) => void
}

interface SimChassis {
  readonly spec: SimBmcSpec
  power: ChassisPower
  bootDevice: { readonly device: BootDevice; readonly persistent: boolean } | null
  reachable: boolean
  nmis: number
}

export interface SimPower {
  readonly driver: PowerDriver["Service"]
  readonly add: (spec: SimBmcSpec) => void
  /** Takes a BMC (address:port) off the network, or puts it back. */
  readonly setReachable: (bmc: string, reachable: boolean) => void
  readonly powerOf: (bmc: string) => ChassisPower | null
  readonly bootDeviceOf: (bmc: string) => { readonly device: BootDevice; readonly persistent: boolean } | null
  /** NMIs the machine received while it ran. */
  readonly nmisOf: (bmc: string) => number
}

export const makeSimPower = (options: SimPowerOptions = {}): SimPower => {
  const chassis = new Map<string, SimChassis>()
  const pacer = makeBmcPacer()
  const unreachableAfterMs = options.unreachableAfterMs ?? 6000
  const add = (spec: SimBmcSpec) => {
    chassis.set(`${spec.address}:${spec.port}`, { spec, power: spec.power ?? "power off", bootDevice: null, reachable: true, nmis: 0 })
  }
  for (const spec of options.bmcs ?? []) add(spec)

  /** One command: paced per BMC, then the session checks a real BMC makes. */
  const command = <A>(bmc: BmcAccess, act: (c: SimChassis, key: string) => Effect.Effect<A, PowerError>) => {
    const key = bmcKey(bmc)
    const session = Effect.suspend((): Effect.Effect<A, PowerError> => {
      let c = chassis.get(key)
      if (c === undefined && options.unknownBmcs !== "unreachable") {
        add({ address: bmc.address, port: bmc.port, username: bmc.username, password: Redacted.value(bmc.password) })
        c = chassis.get(key)
      }
      if (c === undefined || !c.reachable) {
        return Effect.sleep(unreachableAfterMs).pipe(Effect.andThen(Effect.fail(new BmcTimeout({ bmc: key, afterMs: unreachableAfterMs }))))
      }
      if (bmc.username !== c.spec.username || Redacted.value(bmc.password) !== c.spec.password) {
        return Effect.fail(new BmcAuthFailed({ bmc: key, detail: "user name or password not accepted (simulated BMC)" }))
      }
      return act(c, key)
    })
    const interval = bmc.minCommandIntervalMs ?? options.defaultMinCommandIntervalMs ?? 0
    return pacer.exclusive(key, pacer.spaced(key, interval, session))
  }

  const setPower = (c: SimChassis, key: string, power: ChassisPower, cause: PowerChange["cause"]) =>
    Effect.sync(() => {
      if (c.power === power) return
      c.power = power
      options.onPowerChange?.({ bmc: key, address: c.spec.address, power, cause })
    })

  const driver: PowerDriver["Service"] = {
    status: (bmc) => command(bmc, (c) => Effect.succeed(c.power)),
    powerOn: (bmc) => command(bmc, (c, key) => setPower(c, key, "power on", "on")),
    powerOff: (bmc) => command(bmc, (c, key) => setPower(c, key, "power off", "off")),
    softPowerOff: (bmc) => command(bmc, (c, key) =>
      c.spec.softPowerOff === false
        ? Effect.fail(new BmcUnsupported({ bmc: key, command: "chassis power soft", detail: "the simulated machine has no ACPI soft off" }))
        : setPower(c, key, "power off", "soft")),
    // Off then on, like the ipmitool adapter: the machine sees a real power loss.
    reboot: (bmc) => command(bmc, (c, key) =>
      Effect.gen(function* () {
        yield* setPower(c, key, "power off", "reboot")
        yield* setPower(c, key, "power on", "reboot")
      })),
    // Only a running machine can take an interrupt; a BMC refuses it for a chassis that is off.
    injectNmi: (bmc) => command(bmc, (c, key) =>
      c.power !== "power on"
        ? Effect.fail(new BmcUnsupported({ bmc: key, command: "chassis power diag", detail: "the chassis is off: no running machine to interrupt" }))
        : Effect.sync(() => { c.nmis++ })),
    setBootDevice: (bmc, device, persistent) => command(bmc, (c) =>
      Effect.sync(() => {
        c.bootDevice = { device, persistent }
      })),
  }

  return {
    driver,
    add,
    setReachable: (bmc, reachable) => {
      const c = chassis.get(bmc)
      if (c !== undefined) c.reachable = reachable
    },
    powerOf: (bmc) => chassis.get(bmc)?.power ?? null,
    bootDeviceOf: (bmc) => chassis.get(bmc)?.bootDevice ?? null,
    nmisOf: (bmc) => chassis.get(bmc)?.nmis ?? 0,
  }
}

export const SimPowerDriver = (sim: SimPower = makeSimPower()): Layer.Layer<PowerDriver> => Layer.succeed(PowerDriver, sim.driver)
