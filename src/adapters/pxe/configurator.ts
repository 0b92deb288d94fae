// The BootConfigurator's rules, written once over a BootTree: validate, write the node's files,
// then its MAC links; switch labels by parsing the file back; clean exactly what is the node's.
// No operation walks the tree: a node's links are found through its record of MACs (ADR 0120).
import * as E from "fp-ts/lib/Either.js"
import * as Effect from "effect/Effect"
import { parseUuid, type Mac, type Uuid } from "../../domain/values.ts"
import { BootConfigFailed, type BootConfigurator, type DeployBoot } from "../../ports/boot-configurator.ts"
import { checkMacs, checkNodeId, planDeploy } from "./boot-plan.ts"
import type { BootTree } from "./boot-tree.ts"
import { makeKeyedLock } from "./keyed-lock.ts"
import {
  isArgValue, parsePxeConfig, renderPxeConfig, switchedToBoot, switchedToRescue, type PxeConfig,
} from "./pxelinux-config.ts"

/** A change of MAC links: `linked` now boot a node from the tree, `unlinked` no longer do. */
export interface LinksChange {
  readonly linked: ReadonlyArray<Mac>
  readonly unlinked: ReadonlyArray<Mac>
}

export interface ConfiguratorOptions {
  /** The API address nodes must call back; overrides DeployBoot.apiUrl (e.g. behind NAT). */
  readonly apiUrl?: string
  /** Extra kernel arguments for every label, e.g. "console=ttyS0,115200". */
  readonly appendParams?: string
  /**
   * Told which MACs gained or lost a link (the DHCP server's host list): only the MACs changed,
   * each as the tree has it when the change is told, so that concurrent changes cannot reorder.
   */
  readonly onLinksChanged?: (change: LinksChange) => Effect.Effect<void, { readonly reason: string }>
}

const refuse = (nodeId: string, reason: string) => Effect.fail(new BootConfigFailed({ nodeId, reason }))

const fromEither = <A>(nodeId: string, either: E.Either<string, A>): Effect.Effect<A, BootConfigFailed> =>
  E.isLeft(either) ? refuse(nodeId, either.left) : Effect.succeed(either.right)

/** Runs one tree operation; its error message (paths, errno) becomes the reason. */
const attempt = <A>(nodeId: string, what: string, run: () => Promise<A>): Effect.Effect<A, BootConfigFailed> =>
  Effect.tryPromise({
    try: run,
    catch: (e) => new BootConfigFailed({ nodeId, reason: `${what}: ${e instanceof Error ? e.message : String(e)}` }),
  })

/**
 * Wraps `run` so that a call resolves with a run that started after the call: at most one runs,
 * and all calls made meanwhile share the next one.
 */
export const coalesce = (run: () => Promise<void>): (() => Promise<void>) => {
  let running: Promise<void> = Promise.resolve()
  let next: Promise<void> | null = null
  return () => {
    if (next === null) {
      next = running.catch(() => {}).then(() => {
        next = null
        running = run()
        return running
      })
    }
    return next
  }
}

export const makeBootConfigurator = (tree: BootTree, options: ConfiguratorOptions = {}): BootConfigurator["Service"] => {
  const appendParams = options.appendParams ?? ""
  for (const word of appendParams.split(" ").filter((w) => w !== ""))
    if (!isArgValue(word)) throw new Error(`appendParams: ${JSON.stringify(word)} is not a plain kernel argument`)
  if (options.apiUrl !== undefined && !URL.canParse(options.apiUrl)) throw new Error(`apiUrl ${options.apiUrl} is not a URL`)

  // Locks by node and by MAC (ADR 0120): a change holds its node's lock and the locks of the MACs
  // it claims, so "is this MAC someone else's?" is answered while nobody else can claim it, and
  // changes of different nodes never wait for each other.
  const locks = makeKeyedLock()

  // MACs whose link changed and that DHCP was not told of yet. One round tells every change made
  // before it started (a burst of deploys shares rounds); each MAC is told as the tree has it then.
  const pending = new Set<Mac>()
  const publishRound = options.onLinksChanged === undefined ? null : coalesce(async () => {
    const macs = [...pending]
    pending.clear()
    const linked: Mac[] = []
    const unlinked: Mac[] = []
    try {
      for (const mac of macs) {
        const link = await tree.linkOf(mac)
        ;(link !== null && link.nodeId !== null && await tree.hasConfig(link.nodeId) ? linked : unlinked).push(mac)
      }
      await Effect.runPromise(options.onLinksChanged!({ linked, unlinked }).pipe(Effect.mapError((e) => new Error(e.reason))))
    } catch (e) {
      // Told again with the next round: DHCP must not keep a stale view after one failure.
      for (const mac of macs) pending.add(mac)
      throw e
    }
  })
  const publishLinks = (nodeId: string, macs: ReadonlyArray<Mac>) => {
    if (publishRound === null || macs.length === 0) return Effect.void
    for (const mac of macs) pending.add(mac)
    return attempt(nodeId, "DHCP hosts update", publishRound)
  }

  const readConfig = (nodeId: Uuid) => Effect.gen(function* () {
    const text = yield* attempt(nodeId, "reading the PXE config", () => tree.readConfig(nodeId))
    if (text === null) return null
    return yield* fromEither(nodeId, E.mapLeft((r: string) => `PXE config is not ours: ${r}`)(parsePxeConfig(text)))
  })

  const rewrite = (input: string, change: (config: PxeConfig) => E.Either<string, PxeConfig>) => Effect.gen(function* () {
    const nodeId = yield* fromEither(input, checkNodeId(input))
    const config = yield* readConfig(nodeId)
    if (config === null) return yield* refuse(nodeId, "no PXE config to switch: prepare the deploy first")
    const next = yield* fromEither(nodeId, change(config))
    yield* attempt(nodeId, "writing the PXE config", () => tree.writeConfig(nodeId, renderPxeConfig(next, appendParams)))
  }).pipe((effect) => Effect.suspend(() => {
    // A read-modify-write of the node's config: under its lock, as a deploy's write is.
    const id = checkNodeId(input)
    return E.isRight(id) ? locks.withKeys([id.right], effect) : effect
  }))

  /** Refuses MACs whose link boots another node; a link to a node whose files are gone is debris. */
  const checkOwnership = (nodeId: Uuid, macs: ReadonlyArray<Mac>) => Effect.gen(function* () {
    for (const mac of macs) {
      const owner = (yield* attempt(nodeId, "reading a MAC link", () => tree.linkOf(mac)))?.nodeId ?? null
      if (owner === null || owner === nodeId) continue
      if (yield* attempt(nodeId, "checking a MAC link", () => tree.hasConfig(owner)))
        return yield* refuse(nodeId, `MAC ${mac} already boots node ${owner}`)
    }
  })

  const prepareDeploy = (boot: DeployBoot) => Effect.gen(function* () {
    const plan = yield* fromEither(boot.nodeId, planDeploy(boot, options.apiUrl))
    const { nodeId, macs } = plan
    const dropped = yield* locks.withKeys([nodeId, ...macs], Effect.gen(function* () {
      // Checked before any write, so that a refused deploy leaves nothing behind.
      yield* checkOwnership(nodeId, macs)
      for (const [name, source] of plan.images)
        yield* attempt(nodeId, `${name} source`, () => tree.checkSource(source))
      for (const [name, source] of plan.images)
        yield* attempt(nodeId, `placing ${name}`, () => tree.placeImage(nodeId, name, source))
      yield* attempt(nodeId, "removing stale images", () => tree.pruneImages(nodeId, plan.images.map(([name]) => name)))
      yield* attempt(nodeId, "writing the PXE config", () => tree.writeConfig(nodeId, renderPxeConfig(plan.config, appendParams)))
      // Recorded before linking, so that every link naming the node is always in its record.
      const before = yield* attempt(nodeId, "reading the node's MACs", () => tree.macsOf(nodeId))
      const stale = before.filter((mac) => !macs.includes(mac))
      if (stale.length > 0 || macs.some((mac) => !before.includes(mac)))
        yield* attempt(nodeId, "recording the node's MACs", () => tree.recordMacs(nodeId, [...macs, ...stale]))
      for (const mac of macs) yield* attempt(nodeId, `linking MAC ${mac}`, () => tree.link(mac, nodeId))
      // A port removed since the last deploy must not keep booting this node.
      const unlinked = yield* unlinkOwn(nodeId, stale)
      if (stale.length > 0) yield* attempt(nodeId, "recording the node's MACs", () => tree.recordMacs(nodeId, macs))
      return unlinked
    }))
    yield* publishLinks(nodeId, [...macs, ...dropped])
  })

  const switchToBoot = (nodeId: string, rootUuid: string | null) => Effect.gen(function* () {
    const root = rootUuid === null ? null
      : yield* fromEither(nodeId, E.mapLeft((r: string) => `root filesystem: ${r}`)(parseUuid(rootUuid)))
    yield* rewrite(nodeId, (config) => switchedToBoot(config, root))
  })

  const switchToRescue = (nodeId: string, rescueKey?: string) => Effect.gen(function* () {
    if (rescueKey !== undefined && !isArgValue(rescueKey)) {
      return yield* Effect.fail(new BootConfigFailed({ nodeId, reason: "the rescue key is not a valid kernel argument value" }))
    }
    yield* rewrite(nodeId, (config) => E.right(switchedToRescue(config, rescueKey ?? null)))
  })

  const currentLabel = (input: string) => Effect.gen(function* () {
    const nodeId = yield* fromEither(input, checkNodeId(input))
    const config = yield* readConfig(nodeId)
    return config === null ? null : config.defaultLabel
  })

  /** Removes the links among `macs` that name the node (another node's stay); the MACs unlinked. */
  const unlinkOwn = (nodeId: Uuid, macs: ReadonlyArray<Mac>) => Effect.gen(function* () {
    const unlinked: Mac[] = []
    for (const mac of macs) {
      if ((yield* attempt(nodeId, "reading a MAC link", () => tree.linkOf(mac)))?.nodeId !== nodeId) continue
      yield* attempt(nodeId, `unlinking MAC ${mac}`, () => tree.unlink(mac))
      unlinked.push(mac)
    }
    return unlinked
  })

  const clean = (input: string, given: ReadonlyArray<string>) => Effect.gen(function* () {
    const nodeId = yield* fromEither(input, checkNodeId(input))
    const listed = yield* fromEither(nodeId, checkMacs(given))
    // Only the node's lock: a MAC is claimed by another node only once no link names this one.
    const unlinked = yield* locks.withKeys([nodeId], Effect.gen(function* () {
      // Every link that names this node goes (its record lists them all, a port deleted since
      // included); links of the given MACs that name another node are that node's and stay.
      const recorded = yield* attempt(nodeId, "reading the node's MACs", () => tree.macsOf(nodeId))
      const unlinked = yield* unlinkOwn(nodeId, [...new Set([...recorded, ...listed])])
      yield* attempt(nodeId, "removing the node's files", () => tree.removeNode(nodeId))
      return unlinked
    }))
    yield* publishLinks(nodeId, unlinked)
  })

  return { prepareDeploy, switchToBoot, switchToRescue, currentLabel, clean }
}
