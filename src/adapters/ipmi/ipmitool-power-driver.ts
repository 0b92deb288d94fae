// PowerDriver over IPMI v2 (lanplus) with the ipmitool program. See ADR/0005-ipmi-adapter.md.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Semaphore from "effect/Semaphore"
import {
  BmcCommandFailed, BmcTimeout, PowerDriver,
  type BmcAccess, type BootDevice, type ChassisPower, type PowerError,
} from "../../ports/power-driver.ts"
import { parseBootDevice, parsePowerControl, parsePowerStatus, type BmcBusy, type Failure } from "./answers.ts"
import { bmcKey, describeCommand, ipmitoolArgv, ipmitoolEnv, type ChassisCommand } from "./argv.ts"
import { ipmitoolConfig, type IpmitoolConfig } from "./config.ts"
import { makeBmcPacer } from "./pacer.ts"
import { runIpmitool, type IpmitoolOutput } from "./run.ts"

const isFailure = (value: unknown): value is Failure =>
  typeof value === "object" && value !== null && "_tag" in value

/** A reason this access cannot be used, said before ipmitool is run, or null. */
export const invalidAccess = (bmc: BmcAccess): string | null => {
  if (!/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/.test(bmc.address)) return `invalid BMC address ${JSON.stringify(bmc.address)}`
  if (!Number.isInteger(bmc.port) || bmc.port < 1 || bmc.port > 65535) return `invalid BMC port ${bmc.port}`
  // The IPMI limit; ipmitool would refuse it with a message of its own.
  if (Buffer.byteLength(bmc.username) > 16) return "BMC user name must be at most 16 bytes"
  const interval = bmc.minCommandIntervalMs
  if (interval !== undefined && !(Number.isFinite(interval) && interval >= 0)) return `invalid minCommandIntervalMs ${interval}`
  return null
}

export const makeIpmitoolPowerDriver = (overrides: Partial<IpmitoolConfig> = {}): PowerDriver["Service"] => {
  const config = ipmitoolConfig(overrides)
  const pacer = makeBmcPacer()
  // Held only while a process runs: waiting for a BMC's turn or its interval takes no process slot.
  const processes = Semaphore.makeUnsafe(config.maxConcurrentProcesses)
  const busyRetry = Schedule.exponential(config.busyBackoffMs).pipe(Schedule.upTo({ times: config.busyRetries }))

  /** One command to one BMC: queued behind the BMC's other commands, retried while busy, bounded. */
  const issue = <A>(
    bmc: BmcAccess, command: ChassisCommand, parse: (key: string, out: IpmitoolOutput) => A | Failure,
  ): Effect.Effect<A, PowerError> => {
    const key = bmcKey(bmc)
    const described = describeCommand(command)
    const problem = invalidAccess(bmc)
    if (problem !== null) return Effect.fail(new BmcCommandFailed({ bmc: key, command: described, detail: problem }))
    const interval = bmc.minCommandIntervalMs ?? config.defaultMinCommandIntervalMs
    const once: Effect.Effect<A, Failure> = pacer.spaced(key, interval, processes.withPermit(runIpmitool({
      program: config.ipmitoolPath,
      argv: ipmitoolArgv(config, bmc, command),
      env: ipmitoolEnv(bmc),
      timeoutMs: config.invocationTimeoutMs,
      bmc: key,
      command: described,
    }))).pipe(Effect.flatMap((out) => {
      const answer = parse(key, out)
      return isFailure(answer) ? Effect.fail(answer) : Effect.succeed(answer)
    }))
    const operation = once.pipe(
      Effect.retry({ schedule: busyRetry, while: (e: Failure) => e._tag === "BmcBusy" }),
      Effect.catchTag("BmcBusy", (busy: BmcBusy) => Effect.fail(new BmcCommandFailed({
        bmc: key, command: described, detail: `still busy after ${config.busyRetries} retries: ${busy.detail}`,
      }))),
      // Bounds the command itself; waiting in the BMC's queue (below) is not counted.
      Effect.timeoutOrElse({
        duration: config.commandTimeoutMs,
        orElse: () => Effect.fail(new BmcTimeout({ bmc: key, afterMs: config.commandTimeoutMs })),
      }),
    )
    return pacer.exclusive(key, operation).pipe(Effect.withSpan("ipmitool", { attributes: { bmc: key, command: described } }))
  }

  const status = (bmc: BmcAccess) =>
    issue(bmc, { kind: "power", action: "status" }, (key, out) => parsePowerStatus(key, "chassis power status", out))

  const control = (bmc: BmcAccess, action: "on" | "off" | "soft" | "diag") =>
    issue(bmc, { kind: "power", action }, (key, out) => parsePowerControl(key, `chassis power ${action}`, action, out))

  /** BMCs acknowledge before the chassis changes (ipmi_sim: ~0.4 s to off): poll until it has. */
  const waitForPower = (bmc: BmcAccess, target: ChassisPower, after: string, withinMs: number) =>
    Effect.gen(function* () {
      const deadline = (yield* Clock.currentTimeMillis) + withinMs
      while (true) {
        const now = yield* status(bmc)
        if (now === target) return
        if ((yield* Clock.currentTimeMillis) >= deadline) {
          return yield* Effect.fail(new BmcCommandFailed({
            bmc: bmcKey(bmc), command: after, detail: `the chassis still reports ${now} ${withinMs} ms later`,
          }))
        }
        yield* Effect.sleep(config.powerPollMs)
      }
    })

  const powerOn = (bmc: BmcAccess) =>
    control(bmc, "on").pipe(Effect.andThen(waitForPower(bmc, "power on", "chassis power on", config.powerStateTimeoutMs)))
  const powerOff = (bmc: BmcAccess) =>
    control(bmc, "off").pipe(Effect.andThen(waitForPower(bmc, "power off", "chassis power off", config.powerStateTimeoutMs)))

  return {
    status,
    powerOn,
    powerOff,
    softPowerOff: (bmc) =>
      control(bmc, "soft").pipe(Effect.andThen(waitForPower(bmc, "power off", "chassis power soft", config.softOffTimeoutMs))),
    // Off (observed) then on, as Ironic's ipmitool driver does: every BMC implements both alike,
    // while "power cycle" differs between vendors and is refused by some when the chassis is off.
    reboot: (bmc) =>
      Effect.gen(function* () {
        if ((yield* status(bmc)) === "power on") yield* powerOff(bmc)
        yield* powerOn(bmc)
      }),
    // `chassis power diag`, as Ironic's ipmitool management interface sends for inject_nmi.
    injectNmi: (bmc) => control(bmc, "diag"),
    setBootDevice: (bmc, device: BootDevice, persistent) => {
      const command: ChassisCommand = { kind: "bootdev", device, persistent }
      return issue(bmc, command, (key, out) => parseBootDevice(key, describeCommand(command), device, out))
    },
  }
}

export const IpmitoolPowerDriver = (overrides: Partial<IpmitoolConfig> = {}): Layer.Layer<PowerDriver> =>
  Layer.sync(PowerDriver, () => makeIpmitoolPowerDriver(overrides))
