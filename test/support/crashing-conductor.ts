// `ironledger conductor` that SIGKILLs itself right after it appended an event of the type named by
// IRONLEDGER_TEST_DIE_AFTER_EVENT: an exact crash point for the crash tests. Test code only; the
// shipped command has no such knob.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { parseArgs } from "../../src/cli/args.ts"
import { globalOptions } from "../../src/cli/command.ts"
import { conductorCommand, runConductor } from "../../src/cli/commands/conductor.ts"
import { stdoutOut } from "../../src/cli/output.ts"
import { storeLayer, type StoreAddress } from "../../src/cli/store.ts"
import { EventStore } from "../../src/ports/index.ts"

export const DIE_AFTER_EVENT = "IRONLEDGER_TEST_DIE_AFTER_EVENT"

const dieAfter = process.env[DIE_AFTER_EVENT] ?? ""

const crashingStores = (address: StoreAddress) => Layer.effectContext(Effect.gen(function* () {
  const context = yield* Layer.build(storeLayer(address))
  const inner = Context.get(context, EventStore)
  return Context.add(context, EventStore, {
    ...inner,
    append: (streamId, events, expected) =>
      Effect.tap(inner.append(streamId, events, expected), () => Effect.sync(() => {
        if (events.some((e) => e.type === dieAfter)) process.kill(process.pid, "SIGKILL")
      })),
  })
}))

if (import.meta.main) {
  const args = parseArgs(process.argv.slice(2), { ...globalOptions, ...conductorCommand.options })
  await runConductor(args, {
    client: () => { throw new Error("no API client in a conductor") },
    out: stdoutOut(false),
    note: (line) => process.stderr.write(`${line}\n`),
    isTty: false,
  }, crashingStores)
}
