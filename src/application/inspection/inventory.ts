// The hardware inventory an inspection's ramdisk posts (ADR 0058), in Ironic's inventory shape so
// that its clients read it as they read Ironic's, and the node properties taken from it.
import * as t from "io-ts"
import * as E from "fp-ts/lib/Either.js"
import { PathReporter } from "io-ts/lib/PathReporter.js"
import { parseMac } from "../../domain/values.ts"

const Disk = t.intersection([
  t.type({ name: t.string, size: t.number }),
  t.partial({ model: t.union([t.string, t.null]), serial: t.union([t.string, t.null]), wwn: t.union([t.string, t.null]), rotational: t.boolean, vendor: t.union([t.string, t.null]) }),
])
const Nic = t.intersection([
  t.type({ name: t.string, mac_address: t.string }),
  t.partial({ has_carrier: t.boolean, ipv4_address: t.union([t.string, t.null]), speed_mbps: t.union([t.number, t.null]) }),
])
const Text = t.union([t.string, t.null])

export const Inventory = t.intersection([
  t.type({
    cpu: t.intersection([t.type({ count: t.number, architecture: t.string }), t.partial({ model_name: Text })]),
    memory: t.intersection([t.type({ physical_mb: t.number }), t.partial({ total: t.number })]),
    disks: t.array(Disk),
    interfaces: t.array(Nic),
  }),
  t.partial({
    system_vendor: t.partial({ manufacturer: Text, product_name: Text, serial_number: Text }),
    boot: t.partial({ current_boot_mode: t.union([t.literal("uefi"), t.literal("bios")]), pxe_interface: Text }),
  }),
])
export type Inventory = t.TypeOf<typeof Inventory>
export type InventoryDisk = t.TypeOf<typeof Disk>

const GiB = 1024 ** 3

/** The inventory, or what is wrong with it, checked beyond its shape (counts, sizes and MACs). */
export const parseInventory = (raw: unknown): E.Either<string, Inventory> => {
  const decoded = Inventory.decode(raw)
  if (E.isLeft(decoded)) return E.left(`inventory: ${PathReporter.report(decoded).slice(0, 3).join("; ")}`)
  const inv = decoded.right
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0
  if (!whole(inv.cpu.count) || inv.cpu.count < 1) return E.left("inventory: cpu.count must be a positive whole number")
  if (!whole(inv.memory.physical_mb) || inv.memory.physical_mb < 1) return E.left("inventory: memory.physical_mb must be a positive whole number")
  if (inv.cpu.architecture === "" || inv.cpu.architecture.length > 32) return E.left("inventory: cpu.architecture is empty or too long")
  if (inv.disks.length > 256 || inv.interfaces.length > 256) return E.left("inventory: more than 256 disks or interfaces")
  const badDisk = inv.disks.find((d) => !whole(d.size))
  if (badDisk !== undefined) return E.left(`inventory: disk ${badDisk.name} has no whole size in bytes`)
  const badNic = inv.interfaces.find((n) => E.isLeft(parseMac(n.mac_address)))
  if (badNic !== undefined) return E.left(`inventory: interface ${badNic.name} has no valid MAC address (${badNic.mac_address.slice(0, 40)})`)
  return E.right(inv)
}

/** Root device hints as Ironic's properties.root_device names them (those the ramdisk honours). */
export interface RootDeviceHints {
  readonly name?: string
  readonly size?: number
  readonly serial?: string
  readonly wwn?: string
}

/** The smallest disk matching every hint given, of at least `minGib` GiB: the ramdisk agent's rule. */
export const pickRootDisk = (disks: ReadonlyArray<InventoryDisk>, hints: RootDeviceHints, minGib = 4): InventoryDisk | undefined => {
  const stripWwn = (w: string | null | undefined) => (w ?? "").toLowerCase().replace(/^(naa\.|eui\.|0x)/, "")
  const gib = (d: InventoryDisk) => Math.floor(d.size / GiB)
  return disks
    .filter((d) => hints.name === undefined || hints.name === d.name || hints.name === `/dev/${d.name}` || `/dev/${hints.name}` === d.name)
    .filter((d) => hints.size === undefined || hints.size === gib(d))
    .filter((d) => hints.serial === undefined || hints.serial === d.serial)
    .filter((d) => hints.wwn === undefined || stripWwn(hints.wwn) === stripWwn(d.wwn))
    .filter((d) => gib(d) >= minGib)
    .sort((a, b) => a.size - b.size)[0]
}

const hintsOf = (properties: Readonly<Record<string, unknown>>): RootDeviceHints => {
  const raw = properties["root_device"]
  if (typeof raw !== "object" || raw === null) return {}
  const r = raw as Record<string, unknown>
  const str = (k: string) => (typeof r[k] === "string" ? { [k]: r[k] as string } : {})
  return { ...str("name"), ...str("serial"), ...str("wwn"), ...(typeof r["size"] === "number" ? { size: r["size"] } : {}) }
}

/**
 * The node properties an inventory sets, as Ironic's inspection does: cpus, cpu_arch, memory_mb and
 * local_gb (the root disk's whole GiB: the deploy sizes its partition layout against local_gb, so
 * Ironic's 1 GiB of disk_partitioning_spacing is not taken off; left out when no disk qualifies). The root disk is `rootDisk` when the ramdisk named one of the inventory's
 * disks, else picked by its rule from `properties`' root_device hints.
 */
export const inspectedProperties = (inv: Inventory, properties: Readonly<Record<string, unknown>>, rootDisk?: string): Record<string, unknown> => {
  // The ramdisk's own pick (its hints and minimum size come from its kernel command line) wins.
  const root = inv.disks.find((d) => rootDisk !== undefined && d.name === rootDisk) ?? pickRootDisk(inv.disks, hintsOf(properties))
  return {
    cpus: inv.cpu.count,
    cpu_arch: inv.cpu.architecture,
    memory_mb: inv.memory.physical_mb,
    ...(root === undefined ? {} : { local_gb: Math.floor(root.size / GiB) }),
  }
}

/** Canonical MACs of the inventory's interfaces, each once. */
export const inventoryMacs = (inv: Inventory): ReadonlyArray<string> =>
  [...new Set(inv.interfaces.flatMap((n) => { const m = parseMac(n.mac_address); return E.isRight(m) ? [m.right as string] : [] }))]
