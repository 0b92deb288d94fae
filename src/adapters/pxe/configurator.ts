// The BootConfigurator's rules, written once over a BootTree: validate, write the node's files,
// then its MAC links; switch labels by parsing the file back; clean exactly what is the node's.
import * as E from "fp-ts/lib/Either.js"
import { Effect, Semaphore } from "effect"
import { parseUuid, type Mac, type Uuid } from "../../domain/values.ts"
import { BootConfigFailed, type BootConfigurator, type DeployBoot } from "../../ports/boot-configurator.ts"
import { checkMacs, checkNodeId, planDeploy } from "./boot-plan.ts"
import type { BootTree } from "./boot-tree.ts"
import {
  isArgValue, parsePxeConfig, renderPxeConfig, switchedToBoot, switchedToRescue, type PxeConfig,
} from "./pxelinux-config.ts"

export interface ConfiguratorOptions {
  /** The API address nodes must call back; overrides DeployBoot.apiUrl (e.g. behind NAT). */
  readonly apiUrl?: string
  /** Extra kernel arguments for every label, e.g. "console=ttyS0,115200". */
  readonly appendParams?: string
  /** Told every MAC that has a link after each change of links (the DHCP server's host list). */
  readonly onLinksChanged?: (macs: ReadonlyArray<Mac>) => Effect.Effect<void, { readonly reason: string }>
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

  // Link changes are serialised: "is this MAC someone else's?" must see every other node's links
  // as they are, not half-way through a concurrent change.
  const links = Semaphore.makeUnsafe(1)

  // One DHCP reload serves every change made before it started: under a burst of deploys the
  // reloads coalesce instead of queueing one per node.
  const publishRound = options.onLinksChanged === undefined ? null : coalesce(async () => {
    const all = await tree.links()
    await Effect.runPromise(options.onLinksChanged!(all.map((l) => l.mac)).pipe(Effect.mapError((e) => new Error(e.reason))))
  })
  const publishLinks = (nodeId: string) =>
    publishRound === null ? Effect.void : attempt(nodeId, "DHCP hosts update", publishRound)

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
  })

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
    // Checked before any write so that a refused deploy leaves nothing behind, and again under the
    // lock in case another node claimed the MAC meanwhile.
    yield* checkOwnership(nodeId, macs)
    for (const [name, source] of plan.images)
      yield* attempt(nodeId, `${name} source`, () => tree.checkSource(source))
    for (const [name, source] of plan.images)
      yield* attempt(nodeId, `placing ${name}`, () => tree.placeImage(nodeId, name, source))
    yield* attempt(nodeId, "removing stale images", () => tree.pruneImages(nodeId, plan.images.map(([name]) => name)))
    yield* attempt(nodeId, "writing the PXE config", () => tree.writeConfig(nodeId, renderPxeConfig(plan.config, appendParams)))
    yield* links.withPermit(Effect.gen(function* () {
      yield* checkOwnership(nodeId, macs)
      for (const mac of macs) yield* attempt(nodeId, `linking MAC ${mac}`, () => tree.link(mac, nodeId))
      // A port removed since the last deploy must not keep booting this node.
      for (const { mac, nodeId: owner } of yield* attempt(nodeId, "listing MAC links", tree.links))
        if (owner === nodeId && !macs.includes(mac)) yield* attempt(nodeId, `unlinking MAC ${mac}`, () => tree.unlink(mac))
    }))
    yield* publishLinks(nodeId)
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

  const clean = (input: string, macs: ReadonlyArray<string>) => Effect.gen(function* () {
    const nodeId = yield* fromEither(input, checkNodeId(input))
    yield* fromEither(nodeId, checkMacs(macs))
    yield* links.withPermit(Effect.gen(function* () {
      // Every link that names this node goes (also one of a port deleted since); links of the
      // given MACs that name another node are that node's and stay.
      const current = yield* attempt(nodeId, "listing MAC links", tree.links)
      for (const { mac, nodeId: owner } of current)
        if (owner === nodeId) yield* attempt(nodeId, `unlinking MAC ${mac}`, () => tree.unlink(mac))
      yield* attempt(nodeId, "removing the node's files", () => tree.removeNode(nodeId))
    }))
    yield* publishLinks(nodeId)
  })

  return { prepareDeploy, switchToBoot, switchToRescue, currentLabel, clean }
}
