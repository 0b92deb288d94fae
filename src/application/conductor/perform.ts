// Carries out one hardware request through the node's driver and turns the outcome into the result
// event to record. Failures become failure results (with the adapter's message), never defects.
import { Effect, Redacted } from "effect"
import * as E from "fp-ts/lib/Either.js"
import { GiB, computeLayout, type DriverInfo, type HardwareRequestBody, type HardwareResultBody, type NodeState } from "../../domain/index.ts"
import type { BlockTarget, BmcAccess } from "../../ports/index.ts"
import { Secrets } from "../../ports/index.ts"
import type { Hardware } from "./hardware.ts"

export interface PerformConfig {
  /** Where the deploy ramdisk posts pass_deploy_info (written into the PXE config). */
  readonly apiUrl: string
  /** The IQN a node's ramdisk exports its disk under: `${iqnPrefix}:${nodeId}`. */
  readonly iqnPrefix: string
  readonly ramdiskReleasePort: number
  readonly onProgress: (nodeId: string, written: number, total: number) => void
}

class StepError extends Error {}

const text = (info: DriverInfo | Record<string, unknown>, key: string): string | null => {
  const v = info[key]
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null
}

const openSecret = (info: DriverInfo, key: string) =>
  Effect.gen(function* () {
    const v = info[key]
    if (v === undefined || v === null) return Redacted.make("")
    if (typeof v === "object") return yield* (yield* Secrets).open(v.$sealed)
    return Redacted.make(String(v))
  })

/** The BMC of a node; fake-hardware nodes without an address are addressed by their UUID. */
export const bmcOf = (n: NodeState) =>
  Effect.gen(function* () {
    const info = n.driverInfo
    const interval = Number(text(info, "ipmi_min_command_interval_ms") ?? NaN)
    const bmc: BmcAccess = {
      address: text(info, "ipmi_address") ?? n.nodeId,
      port: Number(text(info, "ipmi_port") ?? 623),
      username: text(info, "ipmi_username") ?? "",
      password: yield* openSecret(info, "ipmi_password"),
      ...(Number.isFinite(interval) ? { minCommandIntervalMs: interval } : {}),
    }
    return bmc
  })

/**
 * The ramdisk the node runs now: a cleaning's (while cleaning) or the deploy's. Its key goes into
 * the PXE config, its exported disk is where images are written and metadata wiped.
 */
const ramdiskOf = (n: NodeState) => {
  const cleaning = n.cleaningRamdisk !== null && (n.provisionState === "cleaning" || n.provisionState === "clean wait")
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
const resolveImage = (hw: Hardware, ref: string) => {
  if (sha256Hex.test(ref)) return hw.images.pathOf(ref)
  const path = ref.startsWith("file://") ? decodeURIComponent(new URL(ref).pathname) : ref
  if (!path.startsWith("/")) return Effect.fail(new StepError(`image "${ref}" is neither a sha256 in the image store nor a local file`))
  return Effect.flatMap(hw.images.importFile(path), (info) => hw.images.pathOf(info.id))
}

const imagePath = (hw: Hardware, ref: string | null | undefined, what: string) =>
  ref != null ? resolveImage(hw, ref) : Effect.fail(new StepError(`no ${what} image is set in driver_info`))

const optionalImage = (hw: Hardware, ref: string | null) => (ref === null ? Effect.succeed(null) : resolveImage(hw, ref))

/** A result without its step and duration, which perform() adds. */
type Outcome = { readonly type: HardwareResultBody["type"]; readonly [field: string]: unknown }

const act = (n: NodeState, hw: Hardware, req: HardwareRequestBody, cfg: PerformConfig) =>
  Effect.gen(function* (): Generator<any, Outcome, any> {
    switch (req.type) {
      case "PowerOnRequested":
        yield* hw.power.powerOn(yield* bmcOf(n))
        return { type: "PowerStateChanged", powerState: "power on" }
      case "PowerOffRequested":
        yield* hw.power.powerOff(yield* bmcOf(n))
        return { type: "PowerStateChanged", powerState: "power off" }
      case "SoftPowerOffRequested":
        yield* hw.power.softPowerOff(yield* bmcOf(n))
        return { type: "PowerStateChanged", powerState: "power off" }
      case "RebootRequested":
        yield* hw.power.reboot(yield* bmcOf(n))
        return { type: "PowerStateChanged", powerState: "power on" }
      case "BootDeviceRequested": {
        const r = yield* hw.power.setBootDevice(yield* bmcOf(n), req.data.device, req.data.persistent)
        return { type: "BootDeviceSet", warning: r.warning }
      }
      case "BootConfigRequested": {
        const label = req.data.label
        if (label === null) yield* hw.boot.clean(n.nodeId, n.ports.map((p) => p.mac))
        else if (label === "rescue") yield* hw.boot.switchToRescue(n.nodeId)
        else if (label === "boot") {
          const d = n.deploy
          if (d === null) return yield* Effect.fail(new StepError("no deploy is running"))
          if (d.imageKind === "partition" && !d.rootUuid) return yield* Effect.fail(new StepError("the root partition's UUID is unknown"))
          yield* hw.boot.switchToBoot(n.nodeId, d.imageKind === "partition" ? d.rootUuid : null)
        } else {
          const ramdisk = ramdiskOf(n)
          if (ramdisk === null) return yield* Effect.fail(new StepError("no deploy or cleaning is running"))
          const deploying = n.deploy !== null && ramdisk.id === n.deploy.deployId
          yield* hw.boot.prepareDeploy({
            nodeId: n.nodeId,
            macs: n.ports.map((p) => p.mac),
            deployKernel: yield* imagePath(hw, text(n.driverInfo, "deploy_kernel") ?? hw.defaultDeployImages?.kernel, "deploy_kernel"),
            deployRamdisk: yield* imagePath(hw, text(n.driverInfo, "deploy_ramdisk") ?? hw.defaultDeployImages?.ramdisk, "deploy_ramdisk"),
            kernel: deploying ? yield* optionalImage(hw, text(n.instanceInfo, "kernel")) : null,
            ramdisk: deploying ? yield* optionalImage(hw, text(n.instanceInfo, "ramdisk")) : null,
            deployId: ramdisk.id,
            deployKey: Redacted.value(yield* (yield* Secrets).open(ramdisk.sealedKey.$sealed)),
            iscsiIqn: `${cfg.iqnPrefix}:${n.nodeId}`,
            apiUrl: cfg.apiUrl,
          })
        }
        return { type: "BootConfigWritten" }
      }
      case "ImageWriteRequested": {
        const d = n.deploy!
        // Only fake-hardware may deploy without an image (as Ironic's fake deploy does): nothing to write.
        if (d.imageSource === "" && hw.simulated) {
          return { type: "ImageWritten", deployId: d.deployId, bytesWritten: 0, rootUuid: null, diskId: null }
        }
        const diskGb = Number(n.properties["local_gb"])
        const layout = d.imageKind === "whole-disk" ? E.right(null) : computeLayout({
          rootGb: d.rootGb, swapMb: d.swapMb, ephemeralGb: d.ephemeralGb,
          diskBytes: Number.isFinite(diskGb) ? diskGb * GiB : Number.MAX_SAFE_INTEGER,
        })
        if (E.isLeft(layout)) return yield* Effect.fail(new StepError(layout.left))
        const r = yield* hw.block.writeImage({
          target: yield* targetOf(n),
          layout: layout.right,
          imagePath: yield* resolveImage(hw, d.imageSource),
          preserveEphemeral: d.preserveEphemeral,
          onProgress: (written, total) => cfg.onProgress(n.nodeId, written, total),
        })
        return { type: "ImageWritten", deployId: d.deployId, bytesWritten: r.bytesWritten, rootUuid: r.rootUuid, diskId: r.diskId }
      }
      case "DiskWipeRequested":
        yield* hw.block.wipe(yield* targetOf(n))
        return { type: "DiskWiped" }
      case "RamdiskReleaseRequested": {
        const t = ramdiskOf(n)?.target
        if (!t) return yield* Effect.fail(new StepError("no ramdisk address: it has not called back"))
        yield* hw.ramdisk.release(t.address, cfg.ramdiskReleasePort)
        return { type: "RamdiskReleased" }
      }
    }
  })

const failureOf: Record<HardwareRequestBody["type"], HardwareResultBody["type"]> = {
  PowerOnRequested: "PowerActionFailed", PowerOffRequested: "PowerActionFailed",
  RebootRequested: "PowerActionFailed", SoftPowerOffRequested: "PowerActionFailed",
  BootDeviceRequested: "BootDeviceFailed", BootConfigRequested: "BootConfigFailed",
  ImageWriteRequested: "ImageWriteFailed", DiskWipeRequested: "DiskWipeFailed",
  RamdiskReleaseRequested: "RamdiskReleaseFailed",
}

export const perform = (
  n: NodeState,
  hw: Hardware,
  req: HardwareRequestBody,
  cfg: PerformConfig,
): Effect.Effect<HardwareResultBody, never, Secrets> =>
  Effect.gen(function* () {
    const started = Date.now()
    const outcome = yield* Effect.result(act(n, hw, req, cfg) as Effect.Effect<Outcome, { message?: string }, Secrets>)
    const durationMs = Date.now() - started
    const step = req.data.step
    if (outcome._tag === "Success") {
      const { type, ...rest } = outcome.success
      return { type, data: { ...rest, step, durationMs } } as HardwareResultBody
    }
    const e = outcome.failure
    return { type: failureOf[req.type], data: { step, durationMs, error: e.message ?? String(e) } } as HardwareResultBody
  })
