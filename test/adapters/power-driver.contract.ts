// The PowerDriver contract: every adapter of the port must pass it. What a machine does is observed
// outside the driver (for ipmi_sim: the process its BMC starts on power on), never taken from it.
import { after, before, describe, test } from "node:test"
import assert from "node:assert/strict"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Layer from "effect/Layer"
import { PowerDriver, type BmcAccess, type BootDevice, type PowerError } from "../../src/ports/power-driver.ts"

export interface MachineView {
  readonly running: boolean
  /** How many times the machine has started. */
  readonly boots: number
}

export interface PowerDriverUnderTest {
  readonly layer: Layer.Layer<PowerDriver>
  /** At least 10 answering BMCs, all powered off. */
  readonly bmcs: ReadonlyArray<BmcAccess>
  /** Where no BMC answers, and the bound the adapter is configured to give up within. */
  readonly unreachable: BmcAccess
  readonly unreachableBoundMs: number
  /** The machine behind a BMC, seen from outside the driver. */
  readonly machine: (bmc: BmcAccess) => MachineView
  /**
   * The boot device the hardware recorded; persistent where the hardware records the flag (ipmi_sim
   * is not told it, and keeps every choice).
   */
  readonly recordedBootDevice: (bmc: BmcAccess) => { readonly device: BootDevice; readonly persistent?: boolean } | null
  /** Makes the BMC refuse boot device requests from now on, where the hardware has such a knob. */
  readonly refuseBootDevice?: (bmc: BmcAccess) => void
  readonly expects: {
    /** What a soft power off of a running machine does on this hardware. */
    readonly softPowerOff: "powers off" | "unsupported"
    /** What a diagnostic interrupt to a running machine does (ipmi_sim refuses it without a VM that takes NMIs). */
    readonly nmi: "accepted" | "unsupported"
  }
  readonly close: () => Promise<void>
}

/** Scheduling slack for timing assertions on a loaded CI machine. */
const SLACK_MS = 1500

const failure = <A>(effect: Effect.Effect<A, PowerError>) => Effect.runPromise(Effect.flip(effect))

const eventually = async (what: string, check: () => boolean, withinMs = 5000) => {
  const deadline = Date.now() + withinMs
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${withinMs} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

const timed = async <A>(run: () => Promise<A>): Promise<[A, number]> => {
  const start = performance.now()
  const value = await run()
  return [value, performance.now() - start]
}

export const powerDriverContract = (name: string, open: () => Promise<PowerDriverUnderTest>) =>
  describe(`PowerDriver contract: ${name}`, () => {
    let sut: PowerDriverUnderTest
    let power: PowerDriver["Service"]
    const run = <A>(effect: Effect.Effect<A, PowerError>) => Effect.runPromise(effect)

    before(async () => {
      sut = await open()
      assert.ok(sut.bmcs.length >= 10, "the fixture provides at least 10 BMCs")
      power = await Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* PowerDriver }), sut.layer))
    })
    after(() => sut?.close())

    test("power on and off change what status reports and start and stop the machine", async () => {
      const bmc = sut.bmcs[0]!
      assert.equal(await run(power.status(bmc)), "power off")
      assert.equal(sut.machine(bmc).running, false)
      const boots = sut.machine(bmc).boots
      await run(power.powerOn(bmc))
      assert.equal(await run(power.status(bmc)), "power on")
      await eventually("the machine runs", () => sut.machine(bmc).running)
      assert.equal(sut.machine(bmc).boots, boots + 1)
      // Powering on what is on is not a second boot.
      await run(power.powerOn(bmc))
      assert.equal(sut.machine(bmc).boots, boots + 1)
      await run(power.powerOff(bmc))
      assert.equal(await run(power.status(bmc)), "power off")
      await eventually("the machine stops", () => !sut.machine(bmc).running)
    })

    test("reboot ends on with a fresh boot, from on and from off", async () => {
      const bmc = sut.bmcs[1]!
      assert.equal(await run(power.status(bmc)), "power off")
      const boots = sut.machine(bmc).boots
      await run(power.reboot(bmc))
      assert.equal(await run(power.status(bmc)), "power on")
      await eventually("first boot", () => sut.machine(bmc).running && sut.machine(bmc).boots === boots + 1)
      await run(power.reboot(bmc))
      assert.equal(await run(power.status(bmc)), "power on")
      await eventually("a second boot", () => sut.machine(bmc).running && sut.machine(bmc).boots === boots + 2)
      await run(power.powerOff(bmc))
    })

    test("soft power off powers off where supported, and is BmcUnsupported (chassis left on) elsewhere", async () => {
      const bmc = sut.bmcs[2]!
      await run(power.powerOn(bmc))
      if (sut.expects.softPowerOff === "powers off") {
        await run(power.softPowerOff(bmc))
        assert.equal(await run(power.status(bmc)), "power off")
        await eventually("the machine stops", () => !sut.machine(bmc).running)
      } else {
        const error = await failure(power.softPowerOff(bmc))
        assert.equal(error._tag, "BmcUnsupported")
        assert.equal(await run(power.status(bmc)), "power on")
        assert.equal(sut.machine(bmc).running, true)
        await run(power.powerOff(bmc))
      }
    })

    test("inject NMI: refused while the chassis is off; a running machine takes it, or the BMC says it can not", async () => {
      const bmc = sut.bmcs[3]!
      await run(power.powerOff(bmc))
      assert.notEqual((await failure(power.injectNmi(bmc)))._tag, "BmcTimeout")
      await run(power.powerOn(bmc))
      if (sut.expects.nmi === "accepted") await run(power.injectNmi(bmc))
      else assert.equal((await failure(power.injectNmi(bmc)))._tag, "BmcUnsupported")
      assert.equal(await run(power.status(bmc)), "power on", "an NMI does not change the chassis power")
      await run(power.powerOff(bmc))
    })

    test("boot device pxe and disk: accepted and recorded by the hardware; a refusal fails, naming the device", async () => {
      const bmc = sut.bmcs[3]!
      for (const [device, persistent] of [["pxe", false], ["disk", true], ["pxe", true]] as const) {
        await run(power.setBootDevice(bmc, device, persistent))
        const recorded = sut.recordedBootDevice(bmc)
        assert.equal(recorded?.device, device)
        if (recorded?.persistent !== undefined) assert.equal(recorded.persistent, persistent)
      }
      if (sut.refuseBootDevice === undefined) return
      sut.refuseBootDevice(bmc)
      const error = await failure(power.setBootDevice(bmc, "disk", true))
      assert.equal(error._tag, "BmcCommandFailed")
      assert.match(error.message, /refused boot device disk/)
      assert.equal(sut.recordedBootDevice(bmc)?.device, "pxe", "a refused request changed the boot device")
    })

    test("wrong credentials fail BmcAuthFailed for every command, change nothing and never show a password", async () => {
      const bmc = sut.bmcs[4]!
      const wrongPassword = { ...bmc, password: Redacted.make("not-the-pass") }
      const wrongUser = { ...bmc, username: "intruder" }
      const attempts = [
        power.status(wrongPassword), power.powerOn(wrongPassword), power.reboot(wrongPassword),
        power.setBootDevice(wrongPassword, "pxe", false), power.status(wrongUser), power.powerOn(wrongUser),
      ]
      for (const attempt of attempts) {
        const error = await failure(attempt)
        assert.equal(error._tag, "BmcAuthFailed", `got ${error._tag}: ${error.message}`)
        for (const secret of ["not-the-pass", Redacted.value(bmc.password)]) {
          assert.ok(!error.message.includes(secret), `the error names a password: ${error.message}`)
        }
      }
      assert.equal(await run(power.status(bmc)), "power off")
      assert.equal(sut.machine(bmc).running, false)
    })

    test("a BMC that does not answer fails BmcTimeout within its configured bound", async () => {
      for (const attempt of [power.status(sut.unreachable), Effect.asVoid(power.setBootDevice(sut.unreachable, "pxe", false))]) {
        const [error, elapsed] = await timed(() => failure(attempt))
        assert.equal(error._tag, "BmcTimeout", `got ${error._tag}: ${error.message}`)
        assert.ok(elapsed < sut.unreachableBoundMs + SLACK_MS, `took ${Math.round(elapsed)} ms, bound ${sut.unreachableBoundMs} ms`)
      }
    })

    test("10 BMCs driven concurrently: all on, all report on, all off", async () => {
      const fleet = sut.bmcs.slice(0, 10)
      const all = <A>(f: (bmc: BmcAccess) => Effect.Effect<A, PowerError>) =>
        run(Effect.forEach(fleet, f, { concurrency: "unbounded" }))
      await all(power.powerOn)
      assert.deepEqual(await all(power.status), fleet.map(() => "power on"))
      await eventually("every machine runs", () => fleet.every((b) => sut.machine(b).running))
      await all(power.powerOff)
      assert.deepEqual(await all(power.status), fleet.map(() => "power off"))
      await eventually("every machine stops", () => fleet.every((b) => !sut.machine(b).running))
    })

    test("pacing: commands to one BMC are min_command_interval apart, other BMCs do not wait", async () => {
      const intervalMs = 500
      const paced = sut.bmcs.slice(0, 10).map((b) => ({ ...b, minCommandIntervalMs: intervalMs }))
      const [, oneBmc] = await timed(() => run(Effect.all([power.status(paced[0]!), power.status(paced[0]!), power.status(paced[0]!)], { concurrency: "unbounded" })))
      // Three commands, two pauses between them at least (the first may start at once).
      assert.ok(oneBmc >= 2 * intervalMs, `3 commands to one BMC took ${Math.round(oneBmc)} ms, pacing needs >= ${2 * intervalMs}`)
      // Two commands on each of 10 BMCs: paced per BMC, concurrent across them.
      const [, tenBmcs] = await timed(() => run(Effect.forEach(paced, (b) => Effect.all([power.status(b), power.status(b)], { concurrency: "unbounded" }), { concurrency: "unbounded" })))
      assert.ok(tenBmcs >= intervalMs, `took ${Math.round(tenBmcs)} ms`)
      const serialisedMs = (2 * paced.length - 1) * intervalMs
      assert.ok(tenBmcs < serialisedMs / 2, `10 BMCs waited for each other: ${Math.round(tenBmcs)} ms`)
    })
  })
