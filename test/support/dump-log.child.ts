// Writes every event of a store to a JSON-lines file: `node dump-log.child.ts STORE FILE`. Run on a
// host of a multi-host test, where the database is reachable.
import { writeFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import { parseStoreAddress, storeLayer } from "../../src/cli/store.ts"
import { EventStore } from "../../src/ports/index.ts"

const [store, file] = process.argv.slice(2)
if (store === undefined || file === undefined) throw new Error("usage: dump-log.child.ts STORE FILE")
const events = await Effect.runPromise(Effect.provide(Effect.gen(function* () { return yield* (yield* EventStore).readAll() }), storeLayer(parseStoreAddress(store))))
writeFileSync(file, events.map((e) => JSON.stringify(e)).join("\n") + "\n")
