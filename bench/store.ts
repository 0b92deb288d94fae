// Benchmark: append 1,000,000 events over 10,000 node streams into a SQLite file, then replay them
// through the projections. Prints appends/s, replay events/s and peak RSS.
//   npm run bench:store [-- --events N --nodes N --batch N --store sqlite:FILE|postgres://...]
// (--store: another store than a fresh SQLite file; it should be empty.)
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import * as Effect from "effect/Effect"
import { EventStore } from "../src/ports/index.ts"
import { makeSqliteEventStore } from "../src/adapters/eventstore/sqlite.ts"
import { parseStoreAddress, storeLayer } from "../src/cli/store.ts"
import { streamOf } from "../src/application/event-codec.ts"
import { eventsOf, take, uuid } from "./lifecycle-log.ts"
import { timeReplay } from "./replay-timer.ts"

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    nodes: { type: "string", default: "10000" },
    batch: { type: "string", default: "10" },
    store: { type: "string" },
  },
})
const totalEvents = Number(values.events)
const nodeCount = Number(values.nodes)
const perNode = Math.ceil(totalEvents / nodeCount)

const dir = mkdtempSync(join(tmpdir(), "ironledger-bench-"))
const dbPath = join(dir, "store.sqlite")
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)

const program = Effect.gen(function* () {
  const store = yield* EventStore
  const batch = Number(values.batch)
  const ids = Array.from({ length: nodeCount }, (_, i) => uuid(i, 0))
  const streams = ids.map((id) => eventsOf(id, perNode))
  console.log(`${nodeCount} nodes, ${perNode} events each, appended in batches of ${batch}`)
  let generated = 0
  let appendSeconds = 0
  // Round-robin across nodes, one operation-sized batch at a time, as a busy fleet would write.
  // A round is generated first (untimed), so the figure is the store's alone.
  for (let offset = 0; offset < perNode; offset += batch) {
    const round = streams.map((events) => take(events, batch))
    const started = performance.now()
    for (let i = 0; i < nodeCount; i++) {
      if (round[i]!.length === 0) continue
      yield* store.append(streamOf(ids[i]!), round[i]!, offset === 0 ? "no_stream" : offset - 1)
      generated += round[i]!.length
    }
    appendSeconds += (performance.now() - started) / 1000
  }
  console.log(`append: ${generated} events in ${appendSeconds.toFixed(2)} s = ${Math.round(generated / appendSeconds)} events/s ` +
    `(${Math.round(generated / batch / appendSeconds)} appends/s of ${batch} events)` +
    (values.store === undefined ? `; file ${(statSync(dbPath).size / 2 ** 20).toFixed(0)} MiB` : ""))
  // Reading alone, to tell the store's share of a replay from the projections'.
  const readStarted = performance.now()
  let read = 0
  for (let after = -1; ;) {
    const page = yield* store.readAll({ after, limit: 20_000 })
    read += page.length
    if (page.length === 0) break
    after = page[page.length - 1]!.position
  }
  const readSeconds = (performance.now() - readStarted) / 1000
  console.log(`read: ${read} events in ${readSeconds.toFixed(2)} s = ${Math.round(read / readSeconds)} events/s (store only, no projection)`)
  // The same timer as bench:replay and bench:scale (bench/replay-timer.ts): the faster of two folds.
  const { figures: r, fleet } = yield* timeReplay
  console.log(`replay: ${r.events} events into ${r.nodes} nodes in ${(Math.min(...r.replayWallMs) / 1000).toFixed(2)} s = ${r.replayEventsPerSecWall} events/s ` +
    `(wall; ${r.replayEventsPerSecCpu} events/s of CPU; runs ${r.replayWallMs.join(",")} ms wall, ${r.replayCpuMs.join(",")} ms CPU)`)
  console.log(`fleet: ${JSON.stringify(fleet.countsByState())}`)
  console.log(`peak RSS: ${peakRssMb()} MB`)
})

try {
  await Effect.runPromise(Effect.provide(program, values.store === undefined ? makeSqliteEventStore(dbPath) : storeLayer(parseStoreAddress(values.store))))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
