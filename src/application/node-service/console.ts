// The serial console's use cases: switch it on and off (console_enabled), record each client
// connection with its actor, and open the node's serial line through its console interface.
import * as Effect from "effect/Effect"
import * as E from "fp-ts/lib/Either.js"
import type { EventDataOf } from "../../domain/index.ts"
import { Secrets } from "../../ports/index.ts"
import { opensConsole } from "../hardware/console.ts"
import { InvalidInput } from "../node-service.ts"
import { asConflict, type NodeCore } from "./core.ts"

export type ConsoleConnection =
  | { readonly opened: true; readonly data: EventDataOf<"ConsoleConnectionOpened"> }
  | { readonly opened: false; readonly data: EventDataOf<"ConsoleConnectionClosed"> }

export const nodeConsole = (core: NodeCore) => {
  const { registry, secrets, context, run, resolve, view } = core

  const consoleInterfaceOf = (ref: string) =>
    Effect.gen(function* () {
      const node = yield* resolve(ref)
      const hw = registry.resolve(node)
      if (E.isLeft(hw)) return yield* Effect.fail(new InvalidInput({ reason: hw.left }))
      const iface = hw.right.console
      if (!opensConsole(iface)) {
        return yield* Effect.fail(new InvalidInput({
          reason: `Node ${node.name ?? node.nodeId} has console interface ${iface.name}, which has no console; set console_interface to one its hardware type supports (${registry.supported(node.driver, "console").join(", ")}).`,
        }))
      }
      return { node, iface }
    })

  return {
    setConsole: (ref: string, on: boolean, actor: string) =>
      Effect.gen(function* () {
        const node = on ? (yield* consoleInterfaceOf(ref)).node : yield* resolve(ref)
        const r = yield* run(node.nodeId, { type: "SetConsole", on }, yield* context(actor)).pipe(asConflict)
        return view(r.state)
      }),
    recordConsoleConnection: (ref: string, connection: ConsoleConnection, actor: string) =>
      Effect.gen(function* () {
        const node = yield* resolve(ref)
        const command = connection.opened
          ? { type: "OpenConsoleConnection" as const, data: connection.data }
          : { type: "CloseConsoleConnection" as const, data: connection.data }
        yield* run(node.nodeId, command, yield* context(actor)).pipe(asConflict)
      }),
    openConsole: (ref: string) =>
      Effect.gen(function* () {
        const { node, iface } = yield* consoleInterfaceOf(ref)
        return yield* iface.open(node).pipe(
          Effect.provideService(Secrets, secrets),
          Effect.mapError((e) => new InvalidInput({ reason: `The console of node ${node.name ?? node.nodeId} could not be opened: ${e.message}` })),
        )
      }),
  }
}
