// What the conductor should do next for a node, read from its state alone. Pure, so a conductor that
// restarts (or another conductor that takes over) reaches the same decision from the same log.
//
// The deploy, top to bottom:
//   PXE deploy config -> boot device pxe -> wait call-back (deadline) -> PowerOnRequested
//   -> ramdisk posts pass_deploy_info -> IscsiReady -> write image -> ImageWritten
//   -> release the ramdisk -> PXE boot label -> reboot -> DeployDone
// A cleaning (after a tear-down, on provide, or asked for) boots the same ramdisk with its own key:
//   key -> PXE deploy config -> boot device pxe -> clean wait -> power on -> RamdiskReady
//   -> wipe the disk's metadata -> release the ramdisk -> power off -> PXE config removed -> done
import { stepSeconds } from "../cleaning/agent-steps.ts"
import type { ResolvedStep } from "../cleaning/steps-offered.ts"
import { inspectionSteps, inspectionCleanUp } from "./plan-inspection.ts"
import { rescueSteps, rescueWait } from "./plan-rescue.ts"
import { actionRunning, isInBand, stepOutcome, type ConductorCommand, type HardwareRequestBody, type NodeState } from "../../domain/index.ts"

export type Plan =
  /** Ask for a hardware step (recorded first, then carried out). */
  | { readonly kind: "request"; readonly request: HardwareRequestBody }
  /** Carry out a step already asked for but without a result (e.g. the conductor died mid-step). */
  | { readonly kind: "perform"; readonly request: HardwareRequestBody }
  /** Check the BMC answers, then complete verification. */
  | { readonly kind: "verify" }
  /** Make a key for the ramdisk a cleaning boots (the conductor holds the randomness and the seal). */
  | { readonly kind: "issueRamdiskKey" }
  | { readonly kind: "command"; readonly command: ConductorCommand }
  | { readonly kind: "idle"; readonly why: string }

export interface PlanContext {
  readonly now: number
  readonly callbackTimeoutMs: number
  /** False when the deploy limit is reached: a deploy not started yet stays queued. Asked only then. */
  readonly mayStartDeploy: () => boolean
  /**
   * The node's deploy interface: "ramdisk" boots the deploy ramdisk and waits for its call-back;
   * "instant" (Ironic's fake deploy) has nothing to boot, write or wipe.
   */
  readonly deployStyle: "ramdisk" | "instant"
  /** Whether provide and tear-down clean this node (its own automated_clean, else the service's). */
  readonly automatedClean: boolean
  /** The running cleaning's steps: a manual clean's as asked for, else the configured automated ones. */
  readonly cleanSteps: ReadonlyArray<ResolvedStep>
  /**
   * The node's inspect interface: "agent" boots the ramdisk, which posts the inventory (ADR 0058);
   * "instant" (Ironic's fake inspection, the default) completes at once.
   */
  readonly inspectStyle?: "agent" | "instant"
  /** Where the node's boot interface boots the ramdisk from: the network (default) or virtual media. */
  readonly ramdiskBootDevice?: "pxe" | "cdrom"
  /** The running deploy's out-of-band deploy steps (templates' and the user's), run before the ramdisk boots. */
  readonly deploySteps?: ReadonlyArray<ResolvedStep>
  /**
   * The node's rescue interface: "agent" boots the ramdisk in rescue mode and waits for it to
   * report its login up (ADR 0095); "instant" (Ironic's fake rescue) switches labels and reboots.
   */
  readonly rescueStyle?: "agent" | "instant"
}

export type StepSpec = {
  readonly name: string
  readonly request: (step: string) => HardwareRequestBody
  /** A failure of this step is recorded but does not end the walk. */
  readonly mayFail?: true
}

export const pxe = (label: "deploy" | "boot" | "rescue" | null): StepSpec["request"] =>
  (step) => ({ type: "BootConfigRequested", data: { step, label } })
const powerOff: StepSpec["request"] = (step) => ({ type: "PowerOffRequested", data: { step } })
const reboot: StepSpec["request"] = (step) => ({ type: "RebootRequested", data: { step } })

/**
 * Walks a sequence of steps of the node's current operation: the first one not yet asked for is
 * requested; a failed one ends the walk with `onFailure`; when all are done, `then` decides.
 */
export const walk = (s: NodeState, steps: ReadonlyArray<StepSpec>, then: () => Plan, onFailure: (error: string) => Plan): Plan => {
  const op = s.operation?.id ?? "none"
  for (const spec of steps) {
    const key = `${op}:${spec.name}`
    const outcome = stepOutcome(s.operation, key)
    if (outcome === "failed" && spec.mayFail !== true) return onFailure(s.lastError ?? `step ${spec.name} failed`)
    if (outcome === undefined) return { kind: "request", request: spec.request(key) }
  }
  return then()
}

export const fail = (error: string): Plan => ({ kind: "command", command: { type: "Fail", error } })
export const complete: Plan = { kind: "command", command: { type: "Complete" } }
export const stop = (why: string) => (error: string): Plan => ({ kind: "idle", why: `${why}: ${error}` })

/** Power off and remove the PXE config: what every failed or undone deploy leaves behind. */
export const cleanUp = (prefix: string): ReadonlyArray<StepSpec> => [
  { name: `${prefix}:power-off`, request: powerOff },
  { name: `${prefix}:pxe-remove`, request: pxe(null) },
]

/**
 * The boot device set before the ramdisk boots: PXE persistently (every network boot reads the
 * node's current label), a virtual CD once (as Ironic sets it; the boot interface ejects it after).
 */
export const ramdiskBootDevice = (ctx: PlanContext): StepSpec["request"] => (step) =>
  ctx.ramdiskBootDevice === "cdrom"
    ? { type: "BootDeviceRequested", data: { step, device: "cdrom", persistent: false } }
    : { type: "BootDeviceRequested", data: { step, device: "pxe", persistent: true } }

export const powerOnOrReboot = (s: NodeState): StepSpec["request"] =>
  (step) => (s.powerState === "power on" ? reboot(step) : { type: "PowerOnRequested", data: { step } })

export const awaitCallback = (ctx: PlanContext): Plan => ({
  kind: "command",
  command: { type: "AwaitCallback", deadline: new Date(ctx.now + ctx.callbackTimeoutMs).toISOString() },
})

/** Cleanings that provide and tear-down start on their own (a manual clean was asked for). */
const automatedCleaning = (s: NodeState) => s.operation?.kind === "clean" || s.operation?.kind === "tear down"

/** The key of a cleaning's i-th step in the node's history. */
export const cleanStepKey = (s: NodeState, i: number, name: string) => `${s.operation?.id ?? "none"}:clean-step:${i}:${name}`


const cleaningSteps = (s: NodeState, ctx: PlanContext): Plan => {
  if (!ctx.automatedClean && automatedCleaning(s)) return complete
  const steps = ctx.deployStyle === "instant" ? ctx.cleanSteps.filter((c) => c.where === "out-of-band") : ctx.cleanSteps
  const needsRamdisk = steps.some((c) => c.where === "in-band")
  if (needsRamdisk) {
    const ramdisk = s.cleaningRamdisk
    if (ramdisk === null) return { kind: "issueRamdiskKey" }
    if (ramdisk.target === null) {
      return walk(s, [
        { name: "clean:pxe", request: pxe("deploy") },
        { name: "clean:boot-device", request: ramdiskBootDevice(ctx) },
      ], () => awaitCallback(ctx), fail)
    }
  }
  // The ramdisk runs an in-band step while the node waits in clean wait (where abort works).
  const running = s.pendingSteps.find(isInBand)
  if (running !== undefined) {
    // Seconds the step runs for by its own arguments (burn-in durations) are added to its wait.
    const r = running.request.type === "CleanStepRequested" ? running.request.data : { args: {}, name: undefined }
    return awaitCallback({ ...ctx, callbackTimeoutMs: ctx.callbackTimeoutMs + stepSeconds(r.args, r.name) * 1000 })
  }
  const stepSpecs: ReadonlyArray<StepSpec> = steps.map((c, i) => ({
    name: `clean-step:${i}:${c.name}`,
    request: (step) => ({ type: "CleanStepRequested", data: { step, name: c.name, args: { ...c.args }, where: c.where } }),
  }))
  const after: ReadonlyArray<StepSpec> = needsRamdisk
    ? [{ name: "clean:release-ramdisk", request: (step) => ({ type: "RamdiskReleaseRequested", data: { step } }), mayFail: true }, ...cleanUp("clean")]
    : []
  return walk(s, [...withReboots(steps, stepSpecs), ...after], () => complete, fail)
}

/** An out-of-band step that ends with a reboot (BIOS settings) gets it before the next step. */
const withReboots = (steps: ReadonlyArray<ResolvedStep>, specs: ReadonlyArray<StepSpec>): ReadonlyArray<StepSpec> =>
  specs.flatMap((spec, i) => steps[i]!.rebootAfter ? [spec, { name: `${spec.name}:reboot`, request: reboot }] : [spec])

/** A deploy holds a slot (of the concurrency limit) from its first step to its end. */
export const deployStarted = (n: NodeState): boolean =>
  (n.provisionState === "deploying" || n.provisionState === "wait call-back") &&
  ((n.operation?.steps.length ?? 0) > 0 || n.pendingSteps.length > 0)

const deploySteps = (s: NodeState, ctx: PlanContext): Plan => {
  const d = s.deploy
  if (d === null) return fail("deploying without a deploy request")
  // Deploy steps (BIOS settings, ...) are out-of-band: carried out before anything boots.
  const steps = ctx.deploySteps ?? []
  const stepSpecs = withReboots(steps, steps.map((c, i): StepSpec => ({
    name: `deploy-step:${i}:${c.name}`,
    request: (step) => ({ type: "CleanStepRequested", data: { step, name: c.name, args: { ...c.args }, where: c.where } }),
  })))
  if (ctx.deployStyle === "instant") {
    return walk(s, [...stepSpecs, { name: "deploy:power", request: powerOnOrReboot(s) }], () => ({ kind: "command", command: { type: "Complete", imageless: true } }), fail)
  }
  if (d.iscsi === null) {
    if (!deployStarted(s) && !ctx.mayStartDeploy()) return { kind: "idle", why: "queued: the concurrent deploy limit is reached" }
    // The wait begins before the power-on: a ramdisk that boots fast must find the node waiting.
    return walk(s, [
      ...stepSpecs,
      { name: "deploy:pxe", request: pxe("deploy") },
      { name: "deploy:boot-device", request: ramdiskBootDevice(ctx) },
    ], () => awaitCallback(ctx), fail)
  }
  return walk(s, [
    { name: "deploy:write-image", request: (step) => ({ type: "ImageWriteRequested", data: { step, deployId: d.deployId } }) },
    // The image is on disk by now, and the reboot below ends the ramdisk whether it heard "done"
    // or not. A release carried out again after a conductor died finds no ramdisk when the first
    // one got through: that must not fail the deploy.
    { name: "deploy:release-ramdisk", request: (step) => ({ type: "RamdiskReleaseRequested", data: { step } }), mayFail: true },
    { name: "deploy:pxe-boot", request: pxe("boot") },
    { name: "deploy:reboot", request: reboot },
  ], () => complete, fail)
}

const planOperation = (s: NodeState, ctx: PlanContext): Plan => {
  if (s.deleted) return { kind: "idle", why: "deleted" }
  // In-band steps are the ramdisk's to carry out: the conductor waits for their outcome.
  const pending = s.pendingSteps.find((p) => !isInBand(p))
  if (pending !== undefined) return { kind: "perform", request: pending.request }
  switch (s.provisionState) {
    case "verifying": return { kind: "verify" }
    case "cleaning": return cleaningSteps(s, ctx)
    case "clean failed":
      return walk(s, cleanUp("clean-failed"), () => ({ kind: "idle", why: "cleaning failed, cleaned up" }), stop("clean-up failed"))
    case "deploying": return deploySteps(s, ctx)
    case "deploy failed": return walk(s, cleanUp("cleanup"), () => ({ kind: "idle", why: "deploy failed, cleaned up" }), stop("clean-up failed"))
    case "deleting": return walk(s, cleanUp("teardown"), () => complete, fail)
    case "inspecting": return ctx.inspectStyle === "agent" ? inspectionSteps(s, ctx) : complete
    case "inspect failed":
      return ctx.inspectStyle === "agent" ? inspectionCleanUp(s) : { kind: "idle", why: "stable in inspect failed" }
    case "adopting": return complete
    case "rescuing": if (ctx.rescueStyle === "agent") return rescueSteps(s, ctx)
      return walk(s, [{ name: "rescue:pxe", request: pxe("rescue") }, { name: "rescue:reboot", request: reboot }], () => complete, fail)
    case "unrescuing":
      return walk(s, [{ name: "unrescue:pxe", request: pxe("boot") }, { name: "unrescue:reboot", request: reboot }], () => complete, fail)
    case "wait call-back":
      return walk(s, [{ name: "deploy:power", request: powerOnOrReboot(s) }], () => waitOrTimeOut(s, ctx), fail)
    case "clean wait":
      return walk(s, [{ name: "clean:power", request: powerOnOrReboot(s) }], () => waitOrTimeOut(s, ctx), fail)
    case "inspect wait":
      return ctx.inspectStyle === "agent"
        ? walk(s, [{ name: "inspect:power", request: powerOnOrReboot(s) }], () => waitOrTimeOut(s, ctx), fail)
        : waitOrTimeOut(s, ctx)
    case "rescue wait":
      return ctx.rescueStyle === "agent" ? rescueWait(s, ctx) : waitOrTimeOut(s, ctx)
    default: return { kind: "idle", why: `stable in ${s.provisionState}` }
  }
}

/** A node waiting for its ramdisk: idle until the deadline, then time out. */
export const waitOrTimeOut = (s: NodeState, ctx: PlanContext): Plan =>
  s.waitDeadline !== null && Date.parse(s.waitDeadline) <= ctx.now
    ? { kind: "command", command: { type: "TimeOutWait", now: new Date(ctx.now).toISOString() } }
    : { kind: "idle", why: `waiting until ${s.waitDeadline}` }

/** The node's own work first; once nothing runs on it, its next queued action (ADR 0050). */
export const plan = (s: NodeState, ctx: PlanContext): Plan => {
  const p = planOperation(s, ctx)
  return p.kind === "idle" && !s.deleted && s.queue.length > 0 && !actionRunning(s)
    ? { kind: "command", command: { type: "StartQueued" } }
    : p
}
