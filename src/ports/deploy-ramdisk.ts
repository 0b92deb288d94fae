// DeployRamdisk port: the conductor's word back to a deploy ramdisk once its disk is written.
// The seeds' protocol: connect to the ramdisk's address on port 10000 and send "done".
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"

export class RamdiskUnreachable extends Data.TaggedError("RamdiskUnreachable")<{
  readonly address: string
  readonly reason: string
}> {
  override get message() { return `deploy ramdisk at ${this.address}: ${this.reason}` }
}

export class DeployRamdisk extends Context.Service<DeployRamdisk, {
  readonly release: (address: string, port: number) => Effect.Effect<void, RamdiskUnreachable>
}>()("ironledger/DeployRamdisk") {}
