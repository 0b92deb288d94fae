// The contract kit: what every power and management interface must do, as checks that run against
// one node's BMC. The test suite runs them against every registered adapter (real ones against
// real servers), and `ironledger certify` runs them against a vendor's own BMC. Checks that change
// the machine's power run only when allowed; the machine is left powered as it was found.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { ChassisPower, Secrets } from "../../ports/index.ts"
import type { ManagementInterface, PowerInterface } from "./interfaces.ts"
import type { NodeState } from "../../domain/index.ts"

export interface Certified {
  readonly power: PowerInterface
  readonly management: ManagementInterface
  /** The node whose BMC is checked: its driver_info holds the real settings. */
  readonly node: NodeState
}

export interface CheckResult {
  readonly check: string
  readonly outcome: "pass" | "fail" | "skip"
  readonly detail: string
  readonly ms: number
}

type CheckRun = Effect.Effect<string, { readonly message: string }, Secrets>

interface Check {
  readonly name: string
  /** Changes the machine's power: run only with --allow-power. */
  readonly powers: boolean
  /** Null: not applicable to this interface (said as a skip). */
  readonly run: (c: Certified) => CheckRun | null
}

/**
 * After a power action the service records its result in the node's log; an interface that reads
 * the power state from there (fake) sees it, so the kit records it on its node the same way.
 */
const recorded = (c: Certified, power: ChassisPower): Certified => ({ ...c, node: { ...c.node, powerState: power } })

const expectPower = (c: Certified, want: ChassisPower, within = 30_000): CheckRun =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    for (;;) {
      const now = yield* c.power.status(c.node)
      if (now === want) return `status reads ${now}`
      if ((yield* Clock.currentTimeMillis) - started > within) return yield* Effect.fail({ message: `status reads ${now}, expected ${want} within ${within} ms` })
      yield* Effect.sleep("200 millis")
    }
  })

const checks: ReadonlyArray<Check> = [
  {
    name: "validate accepts the node's driver_info", powers: false,
    run: (c) => {
      const why = c.power.validate?.(c.node) ?? c.management.validate?.(c.node) ?? null
      return why === null ? Effect.succeed("no setting missing") : Effect.fail({ message: why })
    },
  },
  {
    name: "checkInfo accepts the node's driver_info", powers: false,
    run: (c) => {
      const why = c.power.checkInfo?.(c.node.driverInfo) ?? null
      return why === null ? Effect.succeed("every value is usable") : Effect.fail({ message: why })
    },
  },
  { name: "reads the power state", powers: false, run: (c) => Effect.map(c.power.status(c.node), (s) => `status reads ${s}`) },
  {
    name: "refuses a wrong secret", powers: false,
    run: (c) => {
      const secret = c.power.properties.find((p) => p.secret)
      if (secret === undefined) return null
      const wrong = { ...c.node, driverInfo: { ...c.node.driverInfo, [secret.name]: "certainly-not-the-password" } }
      return Effect.flatMap(Effect.result(c.power.status(wrong)), (r) => r._tag === "Failure"
        ? Effect.succeed(`refused: ${r.failure.message}`)
        : Effect.fail({ message: `a wrong ${secret.name} was accepted (status read ${r.success})` }))
    },
  },
  { name: "sets the boot device to pxe (persistent)", powers: false, run: (c) => Effect.as(c.management.setBootDevice(c.node, "pxe", true), "accepted") },
  { name: "sets the boot device to disk (persistent)", powers: false, run: (c) => Effect.as(c.management.setBootDevice(c.node, "disk", true), "accepted") },
  { name: "powers on", powers: true, run: (c) => Effect.andThen(c.power.powerOn(c.node), expectPower(recorded(c, "power on"), "power on")) },
  { name: "reboots, on afterwards", powers: true, run: (c) => Effect.andThen(c.power.reboot(c.node), expectPower(recorded(c, "power on"), "power on")) },
  { name: "powers off", powers: true, run: (c) => Effect.andThen(c.power.powerOff(c.node), expectPower(recorded(c, "power off"), "power off")) },
]

export const checkNames = checks.map((c) => c.name)

/** Runs every check in order; power checks only with allowPower, then the power state found is restored. */
export const certify = (c: Certified, options: { readonly allowPower: boolean }): Effect.Effect<ReadonlyArray<CheckResult>, never, Secrets> =>
  Effect.gen(function* () {
    const results: CheckResult[] = []
    const found = yield* Effect.result(c.power.status(c.node))
    for (const check of checks) {
      const started = yield* Clock.currentTimeMillis
      const work = check.powers && !options.allowPower ? null : check.run(c)
      if (work === null) {
        results.push({ check: check.name, outcome: "skip", detail: check.powers ? "changes power: needs --allow-power" : "not applicable", ms: 0 })
        continue
      }
      const r = yield* Effect.result(work)
      results.push(r._tag === "Success"
        ? { check: check.name, outcome: "pass", detail: r.success, ms: (yield* Clock.currentTimeMillis) - started }
        : { check: check.name, outcome: "fail", detail: r.failure.message, ms: (yield* Clock.currentTimeMillis) - started })
    }
    if (options.allowPower && found._tag === "Success" && found.success === "power on") yield* Effect.ignore(c.power.powerOn(c.node))
    return results
  })
