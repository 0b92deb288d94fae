// Valid fleet logs: random commands and steers for a few nodes, interleaved, run through
// decide/evolve; only the events of accepted commands are kept.
import fc from "fast-check"
import * as E from "fp-ts/lib/Either.js"
import { decide, evolve, initialState, type EventMeta, type NodeCommand, type NodeState, type RecordedNodeEvent, type Uuid } from "../../src/domain/index.ts"
import { consoleCommandArb, discoveryOf, enrollArb, instanceLayerCommandArb, nodeCommandArb, nodeExtrasCommandArb, nodePartsCommandArb, poolsFor, type Pools } from "./arbitraries.ts"
import { steerArb, steerCommands, steerViewOf, type Steer } from "./steering.ts"

/** One event of a fleet's log, as a store would hand it out. */
export interface LoggedEvent extends RecordedNodeEvent {
  readonly nodeId: Uuid
  readonly position: number
}

export const metaAt = (position: number): EventMeta => ({
  occurredAt: new Date(Date.UTC(2030, 0, 1) + position * 1000).toISOString(),
  actor: position % 2 === 0 ? "operator" : "conductor",
  correlationId: `op-${position}`,
  causationId: position > 1 ? `op-${position - 1}` : null,
})

/** A step of a generated log: a random command, or a steer, for node number `node`. */
export type LogStep =
  | { readonly node: number; readonly command: NodeCommand }
  | { readonly node: number; readonly steer: Steer }

/**
 * Runs the steps through decide/evolve and keeps the events of the accepted commands: a valid log.
 * Positions grow strictly, with gaps (as EventStoreDB's do).
 */
export const buildLog = (steps: ReadonlyArray<LogStep>, pools: ReadonlyArray<Pools>): Array<LoggedEvent> => {
  const states = new Map<string, NodeState>()
  const log: Array<LoggedEvent> = []
  let position = 0
  const send = (nodeId: Uuid, command: NodeCommand) => {
    const decision = decide(states.get(nodeId) ?? null, command, nodeId)
    if (E.isLeft(decision)) return
    for (const event of decision.right) {
      position += 1 + (position % 3)
      const meta = metaAt(position)
      const state = evolve(states.get(nodeId) ?? initialState(nodeId), event, meta)
      states.set(nodeId, state)
      log.push({ nodeId, event, meta, revision: state.revision, position })
    }
  }
  for (const step of steps) {
    const { nodeId } = pools[step.node]!
    if ("command" in step) send(nodeId, step.command)
    else {
      const state = states.get(nodeId)
      if (state !== undefined) for (const c of steerCommands(steerViewOf(state), step.steer)) send(nodeId, c)
    }
  }
  return log
}

const logStepArb = (k: number): fc.Arbitrary<LogStep> => {
  const p = poolsFor(k)
  return fc.oneof(
    { weight: 6, arbitrary: nodeCommandArb(p).map((command) => ({ node: k, command })) },
    { weight: 6, arbitrary: steerArb(p).map((steer) => ({ node: k, steer })) },
    { weight: 1, arbitrary: consoleCommandArb.map((command) => ({ node: k, command })) },
    { weight: 1, arbitrary: instanceLayerCommandArb(p).map((command) => ({ node: k, command })) },
    { weight: 1, arbitrary: nodeExtrasCommandArb(p).map((command) => ({ node: k, command })) },
    { weight: 1, arbitrary: nodePartsCommandArb(p).map((command) => ({ node: k, command })) },
  )
}

// Built once: arbitraries with string patterns are costly to construct.
const fleetLogArbs = new Map<number, fc.Arbitrary<{ pools: Array<Pools>; log: Array<LoggedEvent> }>>()

/** A valid log of one to four nodes, their commands interleaved; each node is usually enrolled first. */
export const fleetLogArb = (maxSteps = 100): fc.Arbitrary<{ pools: Array<Pools>; log: Array<LoggedEvent> }> => {
  const known = fleetLogArbs.get(maxSteps)
  if (known !== undefined) return known
  const arb = fc.oneof(...[1, 2, 3, 4].map((n) => {
    const pools = Array.from({ length: n }, (_, k) => poolsFor(k))
    // A node begins enrolled by a user, or discovered (ADR 0090): an unnamed ipmi enroll becomes a
    // discovery (a map, so the random choices, and what the logs cover, stay those of enrolls).
    const first = (p: Pools) => enrollArb(p).map((c) => c.type === "Enroll" && c.name === null && c.driver === "ipmi" ? discoveryOf(p, c) : c)
    const enrolls = fc.tuple(...pools.map((p, k) => fc.option(first(p).map((command) => ({ node: k, command })), { freq: 8, nil: null })))
    const steps = fc.array(fc.oneof(...pools.map((_, k) => logStepArb(k))), { maxLength: maxSteps, size: "max" })
    return fc.tuple(enrolls, steps).map(([first, rest]) => ({
      pools,
      log: buildLog([...first.filter((e) => e !== null), ...rest], pools),
    }))
  }))
  fleetLogArbs.set(maxSteps, arb)
  return arb
}
