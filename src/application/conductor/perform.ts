// Carries out one hardware request through the node's driver and turns the outcome into the result
// event to record. Failures become failure results (with the adapter's message), never defects.
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as E from "fp-ts/lib/Either.js"
import { GiB, MiB, computeLayout, hardwareSteps, type ConfigDriveRef, type DriverInfo, type HardwareRequestBody, type HardwareResultBody, type NodeState } from "../../domain/index.ts"
import type { BlockTarget, ImageStore } from "../../ports/index.ts"
import { Secrets } from "../../ports/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"
import { observeStep } from "../observe.ts"
import { openConfigDrive } from "../config-drive.ts"
import { configDriveArea } from "../../domain/config-drive-partition.ts"
import { offeredSteps } from "../cleaning/steps-offered.ts"

export interface PerformConfig {
  /** Where the deploy ramdisk posts pass_deploy_info (written into the PXE config). */
  readonly apiUrl: string
  /** The IQN a node's ramdisk exports its disk under: `${iqnPrefix}:${nodeId}`. */
  readonly iqnPrefix: string
  readonly ramdiskReleasePort: number
  readonly onProgress: (nodeId: string, written: number, total: number) => void
}

class StepError extends Error {}

const unhandled = (req: never): never => { throw new Error(`no handler for hardware request ${JSON.stringify(req)}`) }

const text = (info: DriverInfo | Record<string, unknown>, key: string): string | null => {
  const v = info[key]
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null
}

/**
 * The ramdisk the node runs now: a cleaning's (while cleaning) or the deploy's. Its key goes into
 * the PXE config, its exported disk is where images are written and metadata wiped.
 */
const ramdiskOf = (n: NodeState) => {
  // An inspection boots the same ramdisk with its own key, as a cleaning does (ADR 0058).
  const cleaning = n.cleaningRamdisk !== null && ["cleaning", "clean wait", "inspecting", "inspect wait", "rescuing", "rescue wait"].includes(n.provisionState)
  if (cleaning) return { id: n.operation?.id ?? n.nodeId, sealedKey: n.cleaningRamdisk!.sealedKey, target: n.cleaningRamdisk!.target }
  const d = n.deploy
  return d === null ? null : { id: d.deployId, sealedKey: d.sealedKey, target: d.iscsi }
}

const targetOf = (n: NodeState) =>
  Effect.gen(function* () {
    const t = ramdiskOf(n)?.target
    if (!t) return yield* Effect.fail(new StepError("no iSCSI target: the ramdisk has not called back"))
    const chap = t.chapUser !== undefined && t.chapSecret !== undefined
      ? { chap: { user: t.chapUser, secret: yield* (yield* Secrets).open(t.chapSecret.$sealed) } }
      : {}
    const target: BlockTarget = { portal: t.address, port: t.port, iqn: t.iqn, lun: t.lun, ...chap }
    return target
  })

const sha256Hex = /^[0-9a-f]{64}$/

/**
 * A verified local path for an image reference: the sha256 of an image in the store, or a local
 * file (`file:///path` or an absolute path), imported into the store first (content-addressed, so
 * importing it again costs a hash, not a copy).
 */
const resolveImage = (images: ImageStore["Service"], ref: string) => {
  if (sha256Hex.test(ref)) return images.pathOf(ref)
  const path = ref.startsWith("file://") ? decodeURIComponent(new URL(ref).pathname) : ref
  if (!path.startsWith("/")) return Effect.fail(new StepError(`image "${ref}" is neither a sha256 in the image store nor a local file`))
  return Effect.flatMap(images.importFile(path), (info) => images.pathOf(info.id))
}

const imagePath = (images: ImageStore["Service"], ref: string | null | undefined, what: string) =>
  ref != null ? resolveImage(images, ref) : Effect.fail(new StepError(`no ${what} image is set in driver_info`))

const optionalImage = (images: ImageStore["Service"], ref: string | null) => (ref === null ? Effect.succeed(null) : resolveImage(images, ref))

/** The deploy interface, when it boots a ramdisk; an instant one has no disk to write or wipe. */
const ramdiskDeploy = (hw: NodeHardware) =>
  hw.deploy.style === "ramdisk" ? Effect.succeed(hw.deploy)
    : Effect.fail(new StepError(`deploy_interface ${hw.deploy.name} boots no ramdisk: nothing to write, wipe or release`))

/** Inspects the deploy's image against its target, where the deploy interface's writer can. */
const checkImage = (n: NodeState, hw: NodeHardware) =>
  Effect.gen(function* () {
    const d = n.deploy!
    if (hw.deploy.style !== "ramdisk" || d.imageSource === "" || hw.deploy.block.inspect === undefined) return
    const diskGb = Number(n.properties["local_gb"])
    const diskBytes = Number.isFinite(diskGb) && diskGb > 0 ? diskGb * GiB : undefined
    const maxVirtualBytes = d.imageKind === "partition" ? d.rootGb * GiB
      : diskBytes === undefined ? undefined : d.configDrive === undefined ? diskBytes : configDriveArea(diskBytes).startBytes
    const path = yield* resolveImage(hw.deploy.images, d.imageSource)
    yield* hw.deploy.block.inspect(path, { kind: d.imageKind, ...(maxVirtualBytes === undefined ? {} : { maxVirtualBytes }) }).pipe(
      Effect.mapError((e) => new StepError(e.reason)),
    )
  })

/** The deploy's config drive, from where the provision request left it (sealed, outside the log). */
const loadConfigDrive = (deploy: Extract<NodeHardware["deploy"], { style: "ramdisk" }>, ref: ConfigDriveRef) =>
  Effect.gen(function* () {
    if (deploy.configDrives === undefined) return yield* Effect.fail(new StepError(`deploy_interface ${deploy.name} writes no config drive`))
    return yield* openConfigDrive(ref, deploy.configDrives, yield* Secrets).pipe(Effect.mapError((e) => new StepError(e.reason)))
  })

/** A result without its step and duration, which perform() adds. */
type Outcome = { readonly type: HardwareResultBody["type"]; readonly [field: string]: unknown }

const act = (n: NodeState, hw: NodeHardware, req: HardwareRequestBody, cfg: PerformConfig) =>
  Effect.gen(function* (): Generator<any, Outcome, any> {
    switch (req.type) {
      case "PowerOnRequested":
        yield* hw.power.powerOn(n)
        return { type: "PowerStateChanged", powerState: "power on" }
      case "PowerOffRequested":
        yield* hw.power.powerOff(n)
        return { type: "PowerStateChanged", powerState: "power off" }
      case "SoftPowerOffRequested":
        yield* hw.power.softPowerOff(n)
        return { type: "PowerStateChanged", powerState: "power off" }
      case "RebootRequested":
        yield* hw.power.reboot(n)
        return { type: "PowerStateChanged", powerState: "power on" }
      case "BootDeviceRequested": {
        yield* hw.management.setBootDevice(n, req.data.device, req.data.persistent)
        // The field stays for events recorded when a refusal was only a warning; none is now.
        return { type: "BootDeviceSet", warning: null }
      }
      case "BootConfigRequested": {
        const label = req.data.label
        const boot = hw.boot.configurator
        if (label === null) yield* boot.clean(n.nodeId, n.ports.map((p) => p.mac))
        else if (label === "rescue") {
          // The rescue ramdisk's key, when the rescue interface boots one (ADR 0095).
          const ramdisk = n.cleaningRamdisk
          // A boot interface that carries the ramdisk itself (virtual media) is given its files (ADR 0145).
          const images = hw.boot.images
          const carried = hw.boot.media === undefined ? undefined : {
            macs: n.ports.map((p) => p.mac), apiUrl: cfg.apiUrl,
            deployKernel: yield* imagePath(images, text(n.driverInfo, "deploy_kernel") ?? hw.boot.defaultDeployImages?.kernel, "deploy_kernel"),
            deployRamdisk: yield* imagePath(images, text(n.driverInfo, "deploy_ramdisk") ?? hw.boot.defaultDeployImages?.ramdisk, "deploy_ramdisk"),
          }
          if (ramdisk === null) yield* boot.switchToRescue(n.nodeId, undefined, carried)
          else yield* boot.switchToRescue(n.nodeId, Redacted.value(yield* (yield* Secrets).open(ramdisk.sealedKey.$sealed)), carried)
        }
        else if (label === "boot") {
          const d = n.deploy
          if (d === null) return yield* Effect.fail(new StepError("no deploy is running"))
          if (d.imageKind === "partition" && !d.rootUuid) return yield* Effect.fail(new StepError("the root partition's UUID is unknown"))
          yield* boot.switchToBoot(n.nodeId, d.imageKind === "partition" ? d.rootUuid : null)
        } else {
          const ramdisk = ramdiskOf(n)
          if (ramdisk === null) return yield* Effect.fail(new StepError("no deploy or cleaning is running"))
          const deploying = n.deploy !== null && ramdisk.id === n.deploy.deployId
          // The image is judged before the node is booted: junk never gets as far as a power-on.
          if (deploying) yield* checkImage(n, hw)
          const images = hw.boot.images
          yield* boot.prepareDeploy({
            nodeId: n.nodeId,
            macs: n.ports.map((p) => p.mac),
            deployKernel: yield* imagePath(images, text(n.driverInfo, "deploy_kernel") ?? hw.boot.defaultDeployImages?.kernel, "deploy_kernel"),
            deployRamdisk: yield* imagePath(images, text(n.driverInfo, "deploy_ramdisk") ?? hw.boot.defaultDeployImages?.ramdisk, "deploy_ramdisk"),
            kernel: deploying ? yield* optionalImage(images, text(n.instanceInfo, "kernel")) : null,
            ramdisk: deploying ? yield* optionalImage(images, text(n.instanceInfo, "ramdisk")) : null,
            deployId: ramdisk.id,
            deployKey: Redacted.value(yield* (yield* Secrets).open(ramdisk.sealedKey.$sealed)),
            iscsiIqn: `${cfg.iqnPrefix}:${n.nodeId}`,
            apiUrl: cfg.apiUrl,
          })
        }
        if (hw.boot.media !== undefined) yield* hw.boot.media.apply(n, label)
        return { type: "BootConfigWritten" }
      }
      case "ImageWriteRequested": {
        const d = n.deploy!
        const deploy = yield* ramdiskDeploy(hw)
        if (d.imageSource === "" && deploy.imageOptional) {
          return { type: "ImageWritten", deployId: d.deployId, bytesWritten: 0, rootUuid: null, diskId: null }
        }
        const diskGb = Number(n.properties["local_gb"])
        const configDrive = d.configDrive === undefined ? undefined : yield* loadConfigDrive(deploy, d.configDrive)
        const layout = d.imageKind === "whole-disk" ? E.right(null) : computeLayout({
          rootGb: d.rootGb, swapMb: d.swapMb, ephemeralGb: d.ephemeralGb,
          diskBytes: Number.isFinite(diskGb) ? diskGb * GiB : Number.MAX_SAFE_INTEGER,
          // Ironic sizes a partition image's config drive partition to the drive, in whole MiB.
          configDriveMb: configDrive === undefined ? 0 : Math.ceil(configDrive.length / MiB),
        })
        if (E.isLeft(layout)) return yield* Effect.fail(new StepError(layout.left))
        const r = yield* deploy.block.writeImage({
          target: yield* targetOf(n),
          layout: layout.right,
          imagePath: yield* resolveImage(deploy.images, d.imageSource),
          preserveEphemeral: d.preserveEphemeral,
          ...(configDrive === undefined ? {} : { configDrive }),
          onProgress: (written, total) => cfg.onProgress(n.nodeId, written, total),
        })
        return { type: "ImageWritten", deployId: d.deployId, bytesWritten: r.bytesWritten, rootUuid: r.rootUuid, diskId: r.diskId }
      }
      case "DiskWipeRequested":
        yield* (yield* ramdiskDeploy(hw)).block.wipe(yield* targetOf(n))
        return { type: "DiskWiped" }
      case "RamdiskReleaseRequested": {
        const t = ramdiskOf(n)?.target
        if (!t) return yield* Effect.fail(new StepError("no ramdisk address: it has not called back"))
        yield* (yield* ramdiskDeploy(hw)).ramdisk.release(t.address, cfg.ramdiskReleasePort)
        return { type: "RamdiskReleased" }
      }
      case "CleanStepRequested": {
        const spec = offeredSteps(hw).get(req.data.name)
        if (spec === undefined) return yield* Effect.fail(new StepError(`clean step ${req.data.name} is not offered by this node's interfaces`))
        if (spec.where === "in-band") return yield* Effect.fail(new StepError(`clean step ${req.data.name} is run by the ramdisk, not the conductor`))
        const outcome = yield* spec.run(n, req.data.args)
        return { type: "CleanStepDone", summary: outcome.summary, ...(outcome.details === undefined ? {} : { details: outcome.details }) }
      }
      default:
        // A request added to the catalogue without a handler here does not compile.
        return unhandled(req)
    }
  })

export const perform = (
  n: NodeState,
  hw: NodeHardware,
  req: HardwareRequestBody,
  cfg: PerformConfig,
): Effect.Effect<HardwareResultBody, never, Secrets> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const outcome = yield* Effect.result(act(n, hw, req, cfg) as Effect.Effect<Outcome, { message?: string }, Secrets>)
    const durationMs = (yield* Clock.currentTimeMillis) - started
    const step = req.data.step
    yield* observeStep({ step: req.type, driver: n.driver, durationMs, failed: outcome._tag !== "Success" })
    if (outcome._tag === "Success") {
      const { type, ...rest } = outcome.success
      return { type, data: { ...rest, step, durationMs } } as HardwareResultBody
    }
    const e = outcome.failure
    return { type: hardwareSteps[req.type].failed, data: { step, durationMs, error: e.message ?? String(e) } } as HardwareResultBody
  })
