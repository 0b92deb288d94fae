// A conductor's host keeps the PXE files of the nodes it drives in its own TFTP root. When it takes
// a node over from another conductor (whose host died or was cut off), the files the log says were
// written live on that other host: this conductor writes them again on its own host before it
// carries on, so the node's next network boot (DHCP's next-server: the host that powers it on)
// finds them here (ADR 0071).
import * as Effect from "effect/Effect"
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

/** The holders of the node's leases taken from revision `from` on, in order, with the last revision read. */
export type LeaseHoldersSince = (nodeId: string, from: number) => Effect.Effect<{ readonly holders: ReadonlyArray<string>; readonly upTo: number }, unknown>

/**
 * Once another conductor has taken a node's lease, this host's PXE files and MAC links for it go:
 * its DHCP server then stops answering the node's MACs, and only the host of the conductor that
 * took the lease last (which writes them when it takes it) answers them (ADR 0072). Read from the
 * node's stream, not its state: by the time this host looks, the other may have let go already.
 * Only nodes this host has files for are looked at, each new stretch of their streams once.
 */
export const makeBootFilesHandover = (me: string, leaseHoldersSince: LeaseHoldersSince) => {
  const seen = new Map<string, number>()
  return (n: NodeState, hw: NodeHardware) =>
    Effect.gen(function* () {
      const from = (seen.get(n.nodeId) ?? -1) + 1
      if (n.revision < from) return
      const here = yield* Effect.orElseSucceed(hw.boot.configurator.currentLabel(n.nodeId), () => null)
      if (here === null) return void seen.set(n.nodeId, n.revision)
      const since = yield* Effect.result(leaseHoldersSince(n.nodeId, from))
      // The store is away: looked at again on the next kick.
      if (since._tag === "Failure") return
      seen.set(n.nodeId, Math.max(n.revision, since.success.upTo))
      const last = since.success.holders.at(-1)
      if (last === undefined || last === me) return
      const cleaned = yield* Effect.result(hw.boot.configurator.clean(n.nodeId, []))
      if (cleaned._tag === "Failure") return yield* Effect.logWarning(`conductor: node ${n.nodeId}: removing its PXE files from this host failed`, cleaned.failure)
      yield* Effect.logInfo(`conductor: node ${n.nodeId}: its PXE files and DHCP entry removed from this host (${last} took it)`)
    })
}
