// What a simulated machine is made of, and the inventory its simulated ramdisk posts for an
// inspection (ADR 0058), in the shape the real agent's inventory.sh prints. The ramdisk posts it
// first on every boot: the service takes it only from a node waiting for an inspection (202);
// anything else (404) means a deploy or a cleaning, which goes on as before.
import { createHash } from "node:crypto"

export interface SimDiskSpec {
  readonly name: string
  readonly bytes: number
  readonly model: string
  readonly serial: string
  readonly wwn: string | null
  readonly rotational: boolean
}

export interface SimMachineSpec {
  readonly cpus: number
  readonly arch: string
  /** As DMI reports the installed memory (more than the kernel's MemTotal). */
  readonly memoryMb: number
  readonly disks: ReadonlyArray<SimDiskSpec>
  readonly nics: ReadonlyArray<{ readonly name: string; readonly mac: string; readonly link: boolean }>
  readonly vendor: { readonly manufacturer: string; readonly product: string; readonly serial: string }
  readonly bootMode: "uefi" | "bios"
}

/**
 * A machine every node gets unless told otherwise: 2 CPUs, 4 GiB, its one disk, and a NIC for each
 * MAC its node's ports name (one derived from its UUID when it has none).
 */
export const defaultSimMachine = (nodeId: string, diskBytes: number, macs: ReadonlyArray<string> = []): SimMachineSpec => {
  const h = createHash("sha256").update(nodeId).digest("hex")
  return {
    cpus: 2, arch: "x86_64", memoryMb: 4096,
    disks: [{ name: "sda", bytes: diskBytes, model: "SIM DISK", serial: `SIM${h.slice(0, 12).toUpperCase()}`, wwn: `0x5000c500${h.slice(12, 20)}`, rotational: false }],
    nics: (macs.length > 0 ? macs : [`52:54:00:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`]).map((mac, i) => ({ name: `eth${i}`, mac, link: true })),
    vendor: { manufacturer: "ironledger", product: "sim", serial: h.slice(0, 16) },
    bootMode: "bios",
  }
}

/** The inventory document (Ironic's inventory shape). */
export const simInventory = (m: SimMachineSpec) => ({
  cpu: { count: m.cpus, architecture: m.arch, model_name: "Simulated CPU" },
  memory: { physical_mb: m.memoryMb, total: Math.max(0, m.memoryMb - 128) * 1024 * 1024 },
  disks: m.disks.map((d) => ({ name: d.name, size: d.bytes, model: d.model, serial: d.serial, wwn: d.wwn, rotational: d.rotational })),
  interfaces: m.nics.map((n) => ({ name: n.name, mac_address: n.mac, has_carrier: n.link })),
  system_vendor: { manufacturer: m.vendor.manufacturer, product_name: m.vendor.product, serial_number: m.vendor.serial },
  boot: { current_boot_mode: m.bootMode, pxe_interface: m.nics[0]?.mac ?? null },
})

/** Posts the inventory over HTTP as the real agent does; true when the service took it (202). */
export const postSimInventory = async (apiUrl: string, nodeId: string, key: string, inventory: unknown): Promise<boolean> => {
  const url = `${apiUrl.replace(/\/+$/, "")}/v1/nodes/${encodeURIComponent(nodeId)}/vendor_passthru/inventory`
  try {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-openstack-ironic-api-version": "1.78" },
      body: JSON.stringify({ key, inventory }),
      signal: AbortSignal.timeout(10_000),
    })
    await r.text()
    return r.status === 202
  } catch {
    return false
  }
}
