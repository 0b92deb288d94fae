// Kernel modules for the ramdisk: the wanted ones plus everything they depend on (read from each
// module's own .modinfo section), in an order insmod can load them. Debian ships no
// modules.dep in the package (depmod runs at install), so the dependencies are read here.
import { existsSync } from "node:fs"
import { readdir, readFile } from "node:fs/promises"
import { join, relative } from "node:path"
import { moduleInfo } from "./elf.ts"
import { BuildFailed } from "./run.ts"

/** Disk, network and filesystem drivers a deploy ramdisk needs on virtual and common real machines. */
export const DEPLOY_MODULES: ReadonlyArray<string> = [
  "virtio_pci", "virtio_net", "virtio_blk", "virtio_scsi", "e1000", "e1000e", "ahci", "ata_piix", "nvme", "sd_mod",
  // ext4 asks the crypto API for "crc32c" at mount (a soft dependency by alias, which insmod cannot
  // resolve): without crc32c_generic loaded the mount fails with ENOENT.
  "ext4", "crc32c_generic", "md_mod", "raid1", "raid0",
  // /sys/firmware/dmi/entries: the memory modules an inspection reports (ADR 0058).
  "dmi_sysfs",
  // /dev/ipmi0 over the system interface (KCS, SMIC, BT): the BMC's address read in-band (ADR 0090).
  "ipmi_si", "ipmi_devintf",
]

const canonical = (name: string) => name.replace(/-/g, "_")

const findKoFiles = async (dir: string): Promise<string[]> => {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name)
    if (e.isDirectory()) out.push(...await findKoFiles(path))
    else if (/\.ko(\.xz|\.zst)?$/.test(e.name)) out.push(path)
  }
  return out
}

export interface ModuleSet {
  /** Paths relative to the kernel's modules directory, in load order. */
  readonly ordered: ReadonlyArray<string>
  /** Wanted modules that the kernel has built in (nothing to load). */
  readonly builtin: ReadonlyArray<string>
}

/** `modulesDir` is lib/modules/<version> of the unpacked kernel package. */
export const resolveModules = async (modulesDir: string, wanted: ReadonlyArray<string>): Promise<ModuleSet> => {
  const byName = new Map<string, string>()
  for (const path of await findKoFiles(join(modulesDir, "kernel"))) {
    byName.set(canonical(path.split("/").pop()!.replace(/\.ko(\.xz|\.zst)?$/, "")), path)
  }
  const builtinList = join(modulesDir, "modules.builtin")
  const builtins = new Set(existsSync(builtinList)
    ? (await readFile(builtinList, "utf8")).split("\n").map((l) => canonical(l.split("/").pop()!.replace(/\.ko$/, "")))
    : [])
  const ordered: string[] = []
  const builtin: string[] = []
  const state = new Map<string, "visiting" | "done">()
  const visit = async (raw: string, chain: ReadonlyArray<string>): Promise<void> => {
    const name = canonical(raw)
    if (state.get(name) === "done") return
    if (state.get(name) === "visiting") throw new BuildFailed(`module dependency cycle: ${[...chain, name].join(" -> ")}`)
    const path = byName.get(name)
    if (path === undefined) {
      if (builtins.has(name)) { builtin.push(name); state.set(name, "done"); return }
      throw new BuildFailed(`kernel module ${name} (${chain.join(" -> ") || "wanted"}) is neither in ${modulesDir} nor built in`)
    }
    state.set(name, "visiting")
    const info = await moduleInfo(path)
    const depends = info.filter(([k]) => k === "depends").map(([, v]) => v).join(",").replace(/^,+|,+$/g, "")
    for (const dep of depends === "" ? [] : depends.split(",").sort()) await visit(dep, [...chain, name])
    // Soft dependencies ("pre: crc32c") are loaded too when present: ext4 needs crc32c at mount.
    // "post:" ones load after the module (ipmi_msghandler's ipmi_devintf): not before it.
    const soft = info.filter(([k]) => k === "softdep").map(([, v]) => v).join(" ")
    let section = "pre:"
    const pre: string[] = []
    for (const word of soft.split(/\s+/).filter((w) => w !== "")) {
      if (word.endsWith(":")) section = word
      else if (section === "pre:") pre.push(word)
    }
    for (const word of pre.sort()) {
      if (byName.has(canonical(word))) await visit(word, [...chain, name])
    }
    state.set(name, "done")
    ordered.push(relative(modulesDir, path))
  }
  for (const name of wanted) await visit(name, [])
  return { ordered, builtin }
}
