// Builds the deploy kernel and initramfs from Debian packages only (ADR 0025). Every input is a
// .deb fetched by apt into the cache; the outputs are cached under a key derived from the inputs,
// and the same inputs always give the same bytes.
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { cpioOf, gzipInitramfs } from "./cpio.ts"
import { fetchPackages, resolveMetaPackage, type DebianPackage } from "./debian.ts"
import { neededLibraries } from "./elf.ts"
import { DEPLOY_MODULES, resolveModules } from "./modules.ts"
import { BuildFailed, run } from "./run.ts"

/** Bumped whenever the recipe changes in a way the inputs' hashes do not show. */
const RECIPE = "ironledger-ramdisk-1+ipmi-addon-2"
const KERNEL_META = "linux-image-amd64"
/** Where tgtd's shared libraries come from; a library found in none of them fails the build. */
const LIBRARY_PACKAGES = [
  "libc6", "libaio1", "libibverbs1", "librdmacm1", "libsystemd0", "libnl-route-3-200", "libnl-3-200", "libcap2",
  "libgcrypt20", "liblzma5", "libzstd1", "liblz4-1", "libgpg-error0", "libudev1",
]
/**
 * ipmitool reads the BMC's LAN settings in-band for discovery (ADR 0090). It and its libraries
 * (libfreeipmi, libcrypto: 4 MiB gzipped) go into an add-on archive that only the discovery PXE
 * config loads after the initramfs, so deploys, cleanings and inspections do not fetch it.
 */
const IPMI_PACKAGES = ["ipmitool", "libfreeipmi17", "libssl3", "libreadline8", "libtinfo6"]

/**
 * The add-on tree: ipmitool and the libraries it names that the initramfs `base` lacks (libc and
 * others are there already: the kernel unpacks the add-on over the initramfs).
 */
const buildIpmiAddon = async (tree: string, base: string, libs: ReadonlyArray<DebianPackage>) => {
  const ipmitool = libs.find((p) => p.name === "ipmitool")
  if (ipmitool === undefined) throw new BuildFailed("the ipmitool package is missing")
  await installWithLibraries(tree, [[join(ipmitool.root, "usr/bin/ipmitool"), "usr/bin/ipmitool"]], libs)
  for (const dir of ["lib64", "lib/x86_64-linux-gnu"]) {
    for (const name of await readdir(join(tree, dir))) if (existsSync(join(base, dir, name))) await rm(join(tree, dir, name))
  }
  await normaliseModes(tree)
}
const MAX_INITRAMFS_BYTES = 20 * 1024 * 1024

const AGENT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "agent")
const AGENT_FILES = [
  ["init.sh", "init"], ["agent.sh", "bin/ironledger-agent"], ["release.sh", "bin/ironledger-release"],
  ["udhcpc.script", "etc/ironledger/udhcpc.script"], ["tgt.sh", "etc/ironledger/tgt.sh"],
  ["steps.sh", "etc/ironledger/steps.sh"], ["inventory.sh", "etc/ironledger/inventory.sh"],
  ["rescue.sh", "etc/ironledger/rescue.sh"],
  ["burnin.sh", "etc/ironledger/burnin.sh"], ["raid.sh", "etc/ironledger/raid.sh"],
] as const

export interface RamdiskBuildOptions {
  /** Downloaded packages, unpacked trees and built outputs. */
  readonly cacheDir: string
  /** Extra kernel modules beyond DEPLOY_MODULES. */
  readonly extraModules?: ReadonlyArray<string>
  readonly log?: (line: string) => void
}

export interface BuiltRamdisk {
  readonly kernel: string
  readonly initramfs: string
  readonly kernelSha256: string
  readonly initramfsSha256: string
  readonly kernelBytes: number
  readonly initramfsBytes: number
  readonly kernelVersion: string
  /** The build's cache key: sha256 of the recipe and every input. */
  readonly buildId: string
  readonly cached: boolean
  readonly packages: ReadonlyArray<{ readonly name: string; readonly version: string }>
  /** ipmitool and its libraries, a second initramfs the discovery boot loads after this one (ADR 0090). */
  readonly ipmiAddon: string
  readonly ipmiAddonSha256: string
  readonly ipmiAddonBytes: number
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex")

/** ld.so's search directories inside an unpacked package. */
const LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib64", "lib"]

const findLibrary = (packages: ReadonlyArray<DebianPackage>, soname: string): { path: string; rel: string } | null => {
  for (const p of packages) for (const dir of LIB_DIRS) {
    const path = join(p.root, dir, soname)
    if (existsSync(path)) return { path, rel: join(dir === "lib64" ? "lib64" : "lib/x86_64-linux-gnu", soname) }
  }
  return null
}

/** Copies the binaries and, transitively, exactly the libraries they name. */
export const installWithLibraries = async (tree: string, binaries: ReadonlyArray<readonly [string, string]>, libs: ReadonlyArray<DebianPackage>) => {
  const pending = [...binaries.map(([from]) => from)]
  for (const [from, to] of binaries) {
    await mkdir(dirname(join(tree, to)), { recursive: true })
    await copyFile(from, join(tree, to))
  }
  const done = new Set<string>()
  while (pending.length > 0) {
    const file = pending.pop()!
    for (const soname of await neededLibraries(file)) {
      if (done.has(soname)) continue
      done.add(soname)
      const found = findLibrary(libs, soname)
      if (found === null) throw new BuildFailed(`${soname} (needed by ${file}) is in none of ${libs.map((p) => p.name).join(", ")}`)
      await mkdir(dirname(join(tree, found.rel)), { recursive: true })
      await copyFile(found.path, join(tree, found.rel))
      pending.push(found.path)
    }
  }
  // The dynamic loader is asked for by its absolute path (PT_INTERP), not by DT_NEEDED.
  const loader = findLibrary(libs, "ld-linux-x86-64.so.2")
  if (loader === null) throw new BuildFailed("ld-linux-x86-64.so.2 is missing from libc6")
  await mkdir(join(tree, "lib64"), { recursive: true })
  await copyFile(loader.path, join(tree, "lib64/ld-linux-x86-64.so.2"))
  return [...done].sort()
}

const buildTree = async (tree: string, kernel: DebianPackage, kernelVersion: string, busybox: DebianPackage,
  tgt: DebianPackage, mdadm: DebianPackage, libs: ReadonlyArray<DebianPackage>, modules: ReadonlyArray<string>, buildId: string) => {
  for (const d of ["bin", "sbin", "usr/bin", "usr/sbin", "etc/ironledger", "proc", "sys", "dev", "run", "tmp", "var", "root", "mnt"]) {
    await mkdir(join(tree, d), { recursive: true })
  }
  await symlink("../run", join(tree, "var/run"))
  // busybox: one binary, a link per applet it offers.
  await copyFile(join(busybox.root, "bin/busybox"), join(tree, "bin/busybox"))
  const applets = (await run(join(busybox.root, "bin/busybox"), ["--list"])).split("\n").filter((a) => /^[a-z0-9_.[-]+$/.test(a))
  for (const applet of applets.sort()) if (applet !== "busybox") await symlink("busybox", join(tree, "bin", applet))
  await installWithLibraries(tree, [
    [join(tgt.root, "usr/sbin/tgtd"), "usr/sbin/tgtd"], [join(tgt.root, "usr/sbin/tgtadm"), "usr/sbin/tgtadm"],
    // Software RAID (ADR 0101): small, and a deploy needs it to assemble the array it installs to.
    [join(mdadm.root, "sbin/mdadm"), "sbin/mdadm"],
  ], libs)
  const modulesDir = join(kernel.root, "lib/modules", kernelVersion)
  for (const rel of modules) {
    await mkdir(dirname(join(tree, "lib/modules", kernelVersion, rel)), { recursive: true })
    await copyFile(join(modulesDir, rel), join(tree, "lib/modules", kernelVersion, rel))
  }
  await writeFile(join(tree, "etc/ironledger/modules"), modules.join("\n") + "\n")
  await writeFile(join(tree, "etc/ironledger/build-id"), buildId + "\n")
  for (const [source, target] of AGENT_FILES) await copyFile(join(AGENT_DIR, source), join(tree, target))
  for (const [, target] of AGENT_FILES) await chmod(join(tree, target), target.startsWith("etc/") && target.endsWith(".sh") ? 0o644 : 0o755)
  // The umask of the building user must not leak into the archive.
  await normaliseModes(tree)
}

const normaliseModes = async (dir: string): Promise<void> => {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name)
    if (e.isDirectory()) { await chmod(path, 0o755); await normaliseModes(path) }
    else if (e.isFile()) await chmod(path, ((await stat(path)).mode & 0o111) !== 0 ? 0o755 : 0o644)
  }
}

export const buildRamdisk = async (options: RamdiskBuildOptions): Promise<BuiltRamdisk> => {
  const log = options.log ?? (() => {})
  const cache = options.cacheDir
  await mkdir(cache, { recursive: true })
  log(`resolving ${KERNEL_META}`)
  const kernelName = await resolveMetaPackage(KERNEL_META, cache)
  log(`packages: ${kernelName} busybox-static tgt mdadm ${[...LIBRARY_PACKAGES, ...IPMI_PACKAGES].join(" ")}`)
  const packages = await fetchPackages(cache, [kernelName, "busybox-static", "tgt", "mdadm", ...LIBRARY_PACKAGES, ...IPMI_PACKAGES])
  const [kernel, busybox, tgt, mdadm, ...libs] = packages as [DebianPackage, DebianPackage, DebianPackage, DebianPackage, ...DebianPackage[]]

  const versions = await readdir(join(kernel.root, "lib/modules"))
  if (versions.length !== 1) throw new BuildFailed(`${kernel.name} holds ${versions.length} module trees, expected one`)
  const kernelVersion = versions[0]!
  const wanted = [...DEPLOY_MODULES, ...(options.extraModules ?? [])]
  const agent = await Promise.all(AGENT_FILES.map(async ([f]) => `${f}:${sha256(await readFile(join(AGENT_DIR, f)))}`))
  const buildId = sha256(JSON.stringify({ RECIPE, packages: packages.map((p) => [p.name, p.version, p.sha256]), wanted, agent }))

  const out = join(cache, "builds", buildId)
  const kernelPath = join(out, "vmlinuz")
  const initramfsPath = join(out, "initramfs.gz")
  const cached = existsSync(join(out, "manifest.json"))
  if (!cached) {
    log(`building ${buildId.slice(0, 12)} (kernel ${kernelVersion})`)
    const { ordered } = await resolveModules(join(kernel.root, "lib/modules", kernelVersion), wanted)
    // Each process builds in its own work dir (two test lanes may build at once); the first to
    // finish publishes its output, and a later one keeps that copy (same inputs, same bytes).
    const work = join(cache, `work.${process.pid}`)
    await rm(work, { recursive: true, force: true })
    const tree = join(work, "tree")
    await buildTree(tree, kernel, kernelVersion, busybox, tgt, mdadm, libs, ordered, buildId)
    const initramfs = gzipInitramfs(await cpioOf(tree))
    if (initramfs.length > MAX_INITRAMFS_BYTES)
      throw new BuildFailed(`the initramfs is ${initramfs.length} bytes, over the ${MAX_INITRAMFS_BYTES}-byte limit`)
    await writeFile(join(work, "initramfs.gz"), initramfs)
    await buildIpmiAddon(join(work, "addon"), tree, libs)
    await writeFile(join(work, "ipmi-addon.gz"), gzipInitramfs(await cpioOf(join(work, "addon"))))
    await rm(join(work, "addon"), { recursive: true, force: true })
    await copyFile(join(kernel.root, "boot", `vmlinuz-${kernelVersion}`), join(work, "vmlinuz"))
    await writeFile(join(work, "manifest.json"), JSON.stringify({
      buildId, kernelVersion, modules: ordered, packages: packages.map((p) => ({ name: p.name, version: p.version, sha256: p.sha256 })),
    }, null, 2) + "\n")
    await rm(join(work, "tree"), { recursive: true, force: true })
    await mkdir(dirname(out), { recursive: true })
    if (existsSync(join(out, "manifest.json"))) await rm(work, { recursive: true, force: true })
    else {
      await rm(out, { recursive: true, force: true })
      await rename(work, out)
    }
  }
  const addonPath = join(out, "ipmi-addon.gz")
  const [k, i, a] = await Promise.all([readFile(kernelPath), readFile(initramfsPath), readFile(addonPath)])
  return {
    ipmiAddon: addonPath, ipmiAddonSha256: sha256(a), ipmiAddonBytes: a.length,
    kernel: kernelPath, initramfs: initramfsPath, kernelSha256: sha256(k), initramfsSha256: sha256(i),
    kernelBytes: k.length, initramfsBytes: i.length, kernelVersion, buildId, cached,
    packages: packages.map((p) => ({ name: p.name, version: p.version })),
  }
}
