// A conductor's host keeps the PXE files of the nodes it drives in its own TFTP root. When it takes
// a node over from another conductor (whose host died or was cut off), the files the log says were
// written live on that other host: this conductor writes them again on its own host before it
// carries on, so the node's next network boot (DHCP's next-server: the host that powers it on)
// finds them here (ADR 0071).
import { Effect } from "effect"
import { stepOutcome, type HardwareRequestBody, type NodeState } from "../../domain/index.ts"
import type { NodeHardware } from "../hardware/interfaces.ts"

type Label = "deploy" | "boot" | "rescue" | null

/**
 * The PXE label the node's current operation has written so far, read from its steps (the last
 * one in plan order wins): null when it removed its files, undefined when it wrote none.
 */
export const writtenBootLabel = (n: NodeState): Label | undefined => {
  const op = n.operation
  if (op === null) return undefined
  const done = (name: string) => stepOutcome(op, `${op.id}:${name}`) === "ok"
  if (["clean:pxe-remove", "clean-failed:pxe-remove", "cleanup:pxe-remove", "teardown:pxe-remove"].some(done)) return null
  if (done("unrescue:pxe")) return "boot"
  if (done("rescue:pxe")) return "rescue"
  if (done("deploy:pxe-boot")) return "boot"
  if (done("deploy:pxe") || done("clean:pxe")) return "deploy"
  return undefined
}

/**
 * Writes again on this host the PXE files the log says the node has, when this host's differ.
 * `perform` carries out a (not recorded) BootConfigRequested, the same code as the step itself.
 */
export const restoreBootFiles = <E, R>(
  n: NodeState,
  hw: NodeHardware,
  perform: (request: HardwareRequestBody) => Effect.Effect<{ readonly type: string; readonly data: unknown }, E, R>,
) =>
  Effect.gen(function* () {
    const wanted = writtenBootLabel(n)
    if (wanted === undefined || wanted === null) return
    const here = yield* Effect.orElseSucceed(hw.boot.configurator.currentLabel(n.nodeId), () => null)
    if (here === wanted) return
    if (wanted === "rescue") return yield* Effect.logWarning(`conductor: node ${n.nodeId}: its rescue PXE files are on another host`)
    const step = `${n.operation?.id ?? "none"}:restore-pxe`
    const labels: ReadonlyArray<"deploy" | "boot"> = wanted === "boot" && here !== "deploy" ? ["deploy", "boot"] : [wanted]
    for (const label of labels) {
      const result = yield* perform({ type: "BootConfigRequested", data: { step, label } })
      if (result.type !== "BootConfigWritten") return yield* Effect.logWarning(`conductor: node ${n.nodeId}: writing its ${label} PXE files on this host failed`, result.data)
    }
    yield* Effect.logInfo(`conductor: node ${n.nodeId}: its ${wanted} PXE files written on this host (taken over)`)
  })

/**
 * Once another conductor holds a node, this host's PXE files and MAC links for it go: its DHCP
 * server then stops answering the node's MACs, and only the new holder's host (which writes them
 * when it takes the lease) answers them (ADR 0072). Looked at once per change of holder.
 */
export const makeBootFilesHandover = (me: string) => {
  const seen = new Map<string, string>()
  return (n: NodeState, hw: NodeHardware) =>
    Effect.gen(function* () {
      const holder = n.lease?.holder
      if (holder === me) seen.delete(n.nodeId)
      if (holder === undefined || holder === me || seen.get(n.nodeId) === holder) return
      seen.set(n.nodeId, holder)
      const links = yield* Effect.orElseSucceed(hw.boot.configurator.currentLabel(n.nodeId), () => null)
      if (links === null) return
      const cleaned = yield* Effect.result(hw.boot.configurator.clean(n.nodeId, []))
      if (cleaned._tag === "Failure") return yield* Effect.logWarning(`conductor: node ${n.nodeId}: removing its PXE files from this host failed`, cleaned.failure)
      yield* Effect.logInfo(`conductor: node ${n.nodeId}: its PXE files and DHCP entry removed from this host (${holder} holds it)`)
    })
}
