// The storage behind a BootConfigurator: Ironic's TFTP tree, as a handful of operations. The
// filesystem tree (fs-tree.ts) serves real nodes; the simulator keeps the same tree in memory.
// Names reaching these operations are already validated (boot-plan.ts). Failures are thrown.
import type { Mac, Uuid } from "../../domain/values.ts"
import type { NodeFile } from "./pxelinux-config.ts"

export type ImageFile = Exclude<NodeFile, "config">

export interface BootTree {
  /** The node's config text, or null when it has none. */
  readonly readConfig: (nodeId: Uuid) => Promise<string | null>
  /** Replaces the config as a whole: a reader sees the old file or the new one, never a mix. */
  readonly writeConfig: (nodeId: Uuid, text: string) => Promise<void>
  /** Fails unless `source` can be placed (checked for every image before anything is written). */
  readonly checkSource: (source: string) => Promise<void>
  /** Puts the file at `source` in the node's directory as `name` (replacing an older one). */
  readonly placeImage: (nodeId: Uuid, name: ImageFile, source: string) => Promise<void>
  /** Removes the node's image files not named in `keep`. */
  readonly pruneImages: (nodeId: Uuid, keep: ReadonlyArray<ImageFile>) => Promise<void>
  /** The node a MAC's link names (nodeId null when it names no node dir of ours); null when there is no link. */
  readonly linkOf: (mac: Mac) => Promise<{ readonly nodeId: Uuid | null } | null>
  /** Every MAC link with the node its target names, as linkOf. Walks the whole tree: start-up only. */
  readonly links: () => Promise<ReadonlyArray<{ readonly mac: Mac; readonly nodeId: Uuid | null }>>
  /** Whether a node's config exists (a link to a node without one is dangling). */
  readonly hasConfig: (nodeId: Uuid) => Promise<boolean>
  /** Points the MAC's link at the node's config, replacing any older link in one step. */
  readonly link: (mac: Mac, nodeId: Uuid) => Promise<void>
  readonly unlink: (mac: Mac) => Promise<void>
  /**
   * The MACs recorded as possibly linked to the node: every link that names it is among them, so
   * its links are found without walking the tree. Empty when the node has no record.
   */
  readonly macsOf: (nodeId: Uuid) => Promise<ReadonlyArray<Mac>>
  /** Replaces the node's record of MACs (made before links are added, shrunk after they are removed). */
  readonly recordMacs: (nodeId: Uuid, macs: ReadonlyArray<Mac>) => Promise<void>
  /** Removes the node's directory and everything in it; nothing when it is absent. */
  readonly removeNode: (nodeId: Uuid) => Promise<void>
}
