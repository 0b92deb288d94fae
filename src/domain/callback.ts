// The ramdisk's call-back (pass_deploy_info), judged in one place: whether the node waits for a
// ramdisk at all, whether the key is the running operation's and unused, what the ramdisk said.
// Pure: the application hands in the key's digest (it holds the hashing) and a sealed CHAP secret.
import type { IscsiTarget } from "./events.ts"
import type { NodeCommand } from "./commands.ts"
import type { NodeState } from "./node-state.ts"
import { Iqn, NonNegativeInt, PortNumber } from "./values.ts"

export interface RamdiskCallback {
  /** Digest of the key the caller presented, made the way the running operation's was. */
  readonly keyDigest: string
  readonly error: string | null
  readonly address: string
  readonly port: number
  readonly iqn: string
  readonly lun: number
  readonly chap?: { readonly user: string; readonly sealedSecret: string }
}

export type CallbackVerdict =
  /** The node waits for no ramdisk: refused, and nothing is recorded (anyone can post). */
  | { readonly kind: "ignored"; readonly reason: string }
  /** A caller that got something wrong while the node waits: refused and recorded. */
  | { readonly kind: "rejected"; readonly reason: string }
  | { readonly kind: "accepted"; readonly command: NodeCommand }

/** Equal digests, compared in time that does not depend on where they differ. */
export const sameDigest = (a: string, b: string): boolean => {
  let diff = a.length ^ b.length
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0)
  return diff === 0
}

export const judgeCallback = (node: NodeState, cb: RamdiskCallback): CallbackVerdict => {
  const deploying = node.provisionState === "wait call-back" && node.deploy !== null
  const cleaning = node.provisionState === "clean wait" && node.cleaningRamdisk !== null
  if (!deploying && !cleaning) {
    return { kind: "ignored", reason: `Node ${node.nodeId} is not waiting for a ramdisk call-back (state "${node.provisionState}").` }
  }
  const what = deploying ? "deploy" : "cleaning"
  const expected = deploying ? node.deploy!.keyHash : node.cleaningRamdisk!.keyHash
  if (!sameDigest(cb.keyDigest, expected)) return { kind: "rejected", reason: `The ${what} key does not match the running ${what}.` }
  if (deploying ? node.deploy!.callbackUsed : node.cleaningRamdisk!.target !== null) {
    return { kind: "rejected", reason: `The ${what} key was already used.` }
  }
  if (cb.error !== null && cb.error !== "") {
    return { kind: "accepted", command: { type: "Fail", error: `The ${what} ramdisk reported: ${cb.error}` } }
  }
  if (!Iqn.is(cb.iqn) || !PortNumber.is(cb.port) || !NonNegativeInt.is(cb.lun)) {
    return { kind: "rejected", reason: `The call-back's iSCSI target is malformed (iqn ${cb.iqn}, port ${cb.port}, lun ${cb.lun}).` }
  }
  const target: IscsiTarget = {
    address: cb.address, port: cb.port, iqn: cb.iqn, lun: cb.lun,
    ...(cb.chap === undefined ? {} : { chapUser: cb.chap.user, chapSecret: { $sealed: cb.chap.sealedSecret } }),
  }
  return {
    kind: "accepted",
    command: deploying ? { type: "AcceptIscsi", deployId: node.deploy!.deployId, target } : { type: "AcceptCleaningIscsi", target },
  }
}
