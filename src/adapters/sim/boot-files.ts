// The simulated machines' TFTP tree kept in files, for fake-hardware run by several processes (an
// API process and conductor processes, or a conductor restarted after a crash): a config one
// process wrote is the one another process's simulated machine boots, as with a real TFTP root.
// The same layout and atomic writes as the PXE adapter's tree (../pxe/fs-tree.ts); only images
// differ: the simulated image store hands out names, not files, so an image entry holds its name.
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import type { Uuid } from "../../domain/values.ts"
import type { BootTree } from "../pxe/boot-tree.ts"
import { makeFsTree, writeFileAtomic } from "../pxe/fs-tree.ts"

export const makeSimFileTree = (root: string): BootTree => {
  // Made by the first operation that needs it, which reports a failure. Made at once, its directory
  // could be created after the machines were closed and their folder removed (a short test's).
  let opened: Promise<BootTree> | undefined
  const files = () => (opened ??= makeFsTree(root))
  return {
    readConfig: async (nodeId) => (await files()).readConfig(nodeId),
    writeConfig: async (nodeId, text) => (await files()).writeConfig(nodeId, text),
    checkSource: async () => {},
    placeImage: async (nodeId: Uuid, name, source) => {
      await files()
      await mkdir(join(root, nodeId), { recursive: true, mode: 0o755 })
      await writeFileAtomic(join(root, nodeId), name, source)
    },
    pruneImages: async (nodeId, keep) => (await files()).pruneImages(nodeId, keep),
    linkOf: async (mac) => (await files()).linkOf(mac),
    links: async () => (await files()).links(),
    hasConfig: async (nodeId) => (await files()).hasConfig(nodeId),
    link: async (mac, nodeId) => (await files()).link(mac, nodeId),
    unlink: async (mac) => (await files()).unlink(mac),
    macsOf: async (nodeId) => (await files()).macsOf(nodeId),
    recordMacs: async (nodeId, macs) => (await files()).recordMacs(nodeId, macs),
    removeNode: async (nodeId) => (await files()).removeNode(nodeId),
  }
}
