// The simulated BootConfigurator (fake-hardware): the same rules, validation and pxelinux text as
// the PXE adapter (src/adapters/pxe/configurator.ts), over a TFTP tree kept in memory. Image
// files are recorded by source path, not copied: the simulated image store's paths are names.
import * as Layer from "effect/Layer"
import * as E from "fp-ts/lib/Either.js"
import { parseMac, type Mac, type Uuid } from "../../domain/values.ts"
import { BootConfigurator } from "../../ports/boot-configurator.ts"
import { linkNameOf } from "../pxe/boot-plan.ts"
import type { BootTree, ImageFile } from "../pxe/boot-tree.ts"
import { makeBootConfigurator, type ConfiguratorOptions } from "../pxe/configurator.ts"

export interface SimBoot {
  readonly configurator: BootConfigurator["Service"]
  /** What PXELINUX would get for this MAC: the linked node's config text, or null. */
  readonly configForMac: (mac: string) => string | null
  /** A node's config text, or null. */
  readonly configOf: (nodeId: string) => string | null
  /** The source recorded for one of a node's image files, or null. */
  readonly imageSource: (nodeId: string, name: ImageFile) => string | null
  /** Every entry as its path in a TFTP tree (`<uuid>/config`, `pxelinux.cfg/01-...`). */
  readonly entries: () => ReadonlyArray<string>
}

export const makeSimBoot = (options: ConfiguratorOptions = {}): SimBoot => {
  const configs = new Map<Uuid, string>()
  const images = new Map<Uuid, Map<ImageFile, string>>()
  const links = new Map<Mac, Uuid>()
  const recorded = new Map<Uuid, ReadonlyArray<Mac>>()
  const imagesOf = (nodeId: Uuid) => images.get(nodeId) ?? images.set(nodeId, new Map()).get(nodeId)!

  const tree: BootTree = {
    readConfig: async (nodeId) => configs.get(nodeId) ?? null,
    writeConfig: async (nodeId, text) => { configs.set(nodeId, text) },
    // Any name will do: the simulated image store hands out names, not files.
    checkSource: async () => {},
    placeImage: async (nodeId, name, source) => { imagesOf(nodeId).set(name, source) },
    pruneImages: async (nodeId, keep) => {
      for (const name of [...imagesOf(nodeId).keys()]) if (!keep.includes(name)) imagesOf(nodeId).delete(name)
    },
    linkOf: async (mac) => links.has(mac) ? { nodeId: links.get(mac)! } : null,
    links: async () => [...links].map(([mac, nodeId]) => ({ mac, nodeId })),
    hasConfig: async (nodeId) => configs.has(nodeId),
    link: async (mac, nodeId) => { links.set(mac, nodeId) },
    unlink: async (mac) => { links.delete(mac) },
    macsOf: async (nodeId) => recorded.get(nodeId) ?? [],
    recordMacs: async (nodeId, macs) => { recorded.set(nodeId, [...macs]) },
    removeNode: async (nodeId) => { configs.delete(nodeId); images.delete(nodeId); recorded.delete(nodeId) },
  }

  return {
    configurator: makeBootConfigurator(tree, options),
    configForMac: (input) => {
      const mac = parseMac(input)
      const nodeId = E.isRight(mac) ? links.get(mac.right) : undefined
      return nodeId === undefined ? null : configs.get(nodeId) ?? null
    },
    configOf: (nodeId) => configs.get(nodeId as Uuid) ?? null,
    imageSource: (nodeId, name) => images.get(nodeId as Uuid)?.get(name) ?? null,
    entries: () => [
      ...[...configs.keys()].map((id) => `${id}/config`),
      ...[...images].flatMap(([id, files]) => [...files.keys()].map((name) => `${id}/${name}`)),
      ...[...links.keys()].map((mac) => `pxelinux.cfg/${linkNameOf(mac)}`),
    ].sort(),
  }
}

export const SimBootConfigurator = (sim: SimBoot = makeSimBoot()): Layer.Layer<BootConfigurator> =>
  Layer.succeed(BootConfigurator, sim.configurator)
