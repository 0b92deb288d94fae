// Starts the application in-process for the application's own tests through the composition
// root: in-memory stores, fake-hardware and sim (whose ramdisks call back in-process). Returns helpers to run Effects and to wait.
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Layer from "effect/Layer"
import { MemoryStores } from "../../src/adapters/eventstore/memory.ts"
import { RandomIds } from "../../src/adapters/system/ids.ts"
import { SecretsWithKey } from "../../src/adapters/system/secrets.ts"
import { defaultApplicationConfig, type Application } from "../../src/application/live.ts"
import { compose, type Services } from "../../src/cli/compose.ts"
import { simulatedHardware } from "../../src/cli/hardware.ts"
import type { SimHardware } from "../../src/adapters/sim/hardware.ts"
import * as Effect from "effect/Effect"
import type { ConductorConfig } from "../../src/application/conductor/conductor.ts"
import type { DeployCallback, NodeView } from "../../src/application/node-service.ts"
import type { CheckpointStore, EventStore } from "../../src/ports/index.ts"
import { isStable } from "../../src/domain/index.ts"

export interface TestApp extends Application {
  readonly run: <A, E>(eff: Effect.Effect<A, E, Services>) => Promise<A>
  readonly sim: SimHardware
  /** Waits until the node reaches `state` (and the conductor is idle), or fails after `ms`. */
  readonly waitFor: (ref: string, state: NodeView["provisionState"], ms?: number) => Promise<NodeView>
  /** Ramdisk call-backs the fake hardware produced and the test held back (when autoCallBack is false). */
  readonly heldCallbacks: Array<{ nodeId: string; callback: DeployCallback }>
  /** Cleaning ramdisks held back (agentRuns false): the test speaks for them with their key. */
  readonly heldAgents: Array<{ nodeId: string; key: string }>
  /** The file behind a node's simulated disk. */
  readonly diskOf: (nodeId: string) => string
  readonly close: () => Promise<void>
}

export interface TestAppOptions {
  readonly conductor?: Partial<ConductorConfig>
  /** When false, deploy ramdisks' call-backs are collected in heldCallbacks instead of posted. */
  readonly autoCallBack?: boolean
  readonly stores?: Layer.Layer<EventStore | CheckpointStore, unknown>
  readonly refusalWindowMs?: number
  /** Size of the simulated machines' disks; default 4 GiB (sparse). */
  readonly diskBytes?: number
  /** When false, cleaning ramdisks run no in-band step: their (node, key) land in heldAgents. */
  readonly agentRuns?: boolean
}

export const startTestApp = async (options: TestAppOptions = {}): Promise<TestApp> => {
  const diskDir = mkdtempSync(join(tmpdir(), "ironledger-app-"))
  const heldCallbacks: TestApp["heldCallbacks"] = []
  const heldAgents: TestApp["heldAgents"] = []
  let composed: Awaited<ReturnType<typeof compose>> | undefined
  const hardware = simulatedHardware({
    callbackDelayMs: 1,
    diskDir,
    diskBytesOf: () => options.diskBytes ?? 4 * 1024 ** 3,
    deliver: (nodeId, callback) => {
      // Only deploy call-backs are held back; a cleaning's ramdisk answers as usual.
      const deploying = composed?.app.fleet.get(nodeId)?.provisionState === "wait call-back"
      if (options.autoCallBack === false && deploying) heldCallbacks.push({ nodeId, callback })
      else void composed?.run(composed.app.service.passDeployInfo(nodeId, callback)).catch(() => {})
    },
    agent: (nodeId, key) => ({
      ask: async () => {
        if (composed === undefined) return { kind: "none" }
        if (options.agentRuns === false) {
          const cleaning = ["cleaning", "clean wait"].includes(composed.app.fleet.get(nodeId)?.provisionState ?? "")
          if (cleaning) heldAgents.push({ nodeId, key })
          return { kind: "none" }
        }
        const answer = await composed.run(Effect.result(composed.app.service.nextCleanStep(nodeId, key)))
        return answer._tag === "Success" ? answer.success : { kind: "none" }
      },
      report: async (r) => { await composed?.run(composed.app.service.cleanStepResult(nodeId, key, r)).catch(() => {}) },
    }),
  })
  composed = await compose({
    services: Layer.mergeAll(
      options.stores ?? MemoryStores, RandomIds, SecretsWithKey(randomBytes(32)),
    ) as Layer.Layer<Services>,
    hardware,
    config: {
      ...defaultApplicationConfig,
      ...(options.refusalWindowMs === undefined ? {} : { refusalWindowMs: options.refusalWindowMs }),
      conductor: { ...defaultApplicationConfig.conductor, sweepIntervalMs: 50, ...options.conductor },
    },
  })
  const { app, run } = composed
  const waitFor = async (ref: string, state: NodeView["provisionState"], ms = 10_000) => {
    const deadline = Date.now() + ms
    for (;;) {
      const node = await run(app.service.get(ref))
      // A stable state counts once nothing is heading elsewhere; an unstable one as soon as it is seen.
      if (node.provisionState === state && (node.targetProvisionState === null || !isStable(state))) return node
      if (Date.now() > deadline) {
        throw new Error(`node ${ref} is "${node.provisionState}" (last error: ${node.lastError}), not "${state}", after ${ms} ms`)
      }
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  return {
    ...app, run, sim: hardware.sim, waitFor, heldCallbacks, heldAgents,
    diskOf: (nodeId) => join(diskDir, `${nodeId}.img`),
    close: async () => {
      await composed!.close()
      rmSync(diskDir, { recursive: true, force: true })
    },
  }
}
