// The ramdisk's tools bundle (ADR 0100): stress-ng, memtester and fio from Debian with exactly the
// shared libraries they load, as a gzip'd cpio archive the service serves over HTTP and the
// ramdisk fetches when a burn-in step runs. The deploy initramfs stays small (TFTP carries it); the
// bundle travels over HTTP, once per burn-in. Built and cached like the ramdisk: same inputs, same
// bytes, a cache key derived from every package's hash.
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { cpioOf, gzipInitramfs } from "../build/cpio.ts"
import { fetchPackages, type DebianPackage } from "../build/debian.ts"
import { neededLibraries } from "../build/elf.ts"
import { BuildFailed, run } from "../build/run.ts"

const RECIPE = "ironledger-ramdisk-tools-1"
/** The tools and where each package keeps its binary. */
export const TOOLS = [
  { package: "stress-ng", binary: "usr/bin/stress-ng" },
  { package: "memtester", binary: "usr/sbin/memtester" },
  { package: "fio", binary: "usr/bin/fio" },
] as const
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024
const LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/ceph", "lib64", "lib", "usr/lib"]
/** Depends that are never where a shared library comes from. */
const NOT_LIBRARIES = /^(python3.*|init-system-helpers|debconf.*|lsb-base|adduser|dpkg|perl.*|.*-common|.*-data|ceph-common)$/

export interface ToolsBundle {
  readonly path: string
  readonly sha256: string
  readonly bytes: number
  readonly buildId: string
  readonly cached: boolean
  readonly packages: ReadonlyArray<{ readonly name: string; readonly version: string }>
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex")

/** Each package's Depends and Pre-Depends (first alternative, no versions), in one apt-cache call. */
const dependsOf = async (names: ReadonlyArray<string>): Promise<ReadonlyMap<string, ReadonlyArray<string>>> => {
  const text = await run("apt-cache", ["show", "--no-all-versions", ...names])
  const out = new Map<string, string[]>()
  for (const stanza of text.split(/\n\n+/)) {
    const name = stanza.match(/^Package: (.+)$/m)?.[1]?.trim()
    if (name === undefined || out.has(name)) continue
    const deps = [...stanza.matchAll(/^(?:Pre-)?Depends: (.+)$/gm)].flatMap((m) => m[1]!.split(","))
      .map((d) => d.split("|")[0]!.trim().split(/[\s:]/)[0]!).filter((d) => d !== "")
    out.set(name, deps)
  }
  return out
}

const findLibrary = (packages: Iterable<DebianPackage>, soname: string) => {
  for (const p of packages) for (const dir of LIB_DIRS) {
    const path = join(p.root, dir, soname)
    if (existsSync(path)) return { pkg: p, path }
  }
  return null
}

/**
 * The tools and their libraries: each library is looked for in the packages the package that
 * needs it depends on, fetched level by level, so only packages that hold a needed library are
 * followed (fio's Depends reach Ceph and Python; its binary needs a few of their libraries).
 */
const gather = async (cacheDir: string) => {
  const fetched = new Map<string, DebianPackage>()
  const fetch = async (names: ReadonlyArray<string>) => {
    const fresh = [...new Set(names)].filter((n) => !fetched.has(n) && !NOT_LIBRARIES.test(n))
    if (fresh.length > 0) for (const p of await fetchPackages(cacheDir, fresh)) fetched.set(p.name, p)
  }
  await fetch(TOOLS.map((t) => t.package))
  const expanded = new Set<string>()
  const files = new Map<string, string>() // soname -> path
  const pending: Array<{ file: string; owner: string }> = TOOLS.map((t) => ({ file: join(fetched.get(t.package)!.root, t.binary), owner: t.package }))
  while (pending.length > 0) {
    const { file, owner } = pending.shift()!
    for (const soname of await neededLibraries(file)) {
      if (files.has(soname)) continue
      let found = findLibrary(fetched.values(), soname)
      // Not among what is fetched yet: fetch what the needing package depends on, then what those
      // depend on (a library moved to a sibling package), and look again.
      let level: ReadonlyArray<string> = [owner]
      for (let depth = 0; found === null && depth < 2 && level.length > 0; depth++) {
        const fresh = level.filter((w) => !expanded.has(w) && !NOT_LIBRARIES.test(w))
        for (const w of fresh) expanded.add(w)
        level = fresh.length === 0 ? [] : [...(await dependsOf(fresh)).values()].flat()
        await fetch(level)
        found = findLibrary(fetched.values(), soname)
      }
      if (found === null) throw new BuildFailed(`${soname} (needed by ${file}) is in none of the packages the tools depend on`)
      files.set(soname, found.path)
      pending.push({ file: found.path, owner: found.pkg.name })
    }
  }
  const loader = findLibrary(fetched.values(), "ld-linux-x86-64.so.2")
  if (loader === null) throw new BuildFailed("ld-linux-x86-64.so.2 is in none of the fetched packages")
  return { packages: [...fetched.values()].sort((a, b) => a.name.localeCompare(b.name)), libraries: files, loader: loader.path }
}

/** Builds (or finds in the cache) the bundle: bin/<tool>, lib/<soname>, lib/ld-linux-x86-64.so.2. */
export const buildToolsBundle = async (options: { readonly cacheDir: string; readonly log?: (line: string) => void }): Promise<ToolsBundle> => {
  const log = options.log ?? (() => {})
  log(`tools bundle: ${TOOLS.map((t) => t.package).join(", ")} and their libraries`)
  const { packages, libraries, loader } = await gather(options.cacheDir)
  const buildId = sha256(JSON.stringify({ RECIPE, packages: packages.map((p) => [p.name, p.version, p.sha256]), libs: [...libraries.keys()].sort() }))
  const out = join(options.cacheDir, "tools", buildId)
  const file = join(out, "tools.cpio.gz")
  const cached = existsSync(file)
  if (!cached) {
    const work = join(options.cacheDir, `tools-work.${process.pid}`)
    await rm(work, { recursive: true, force: true })
    const tree = join(work, "tree")
    for (const d of ["bin", "lib"]) await mkdir(join(tree, d), { recursive: true })
    for (const t of TOOLS) {
      const pkg = packages.find((p) => p.name === t.package)!
      await copyFile(join(pkg.root, t.binary), join(tree, "bin", t.binary.split("/").at(-1)!))
      await chmod(join(tree, "bin", t.binary.split("/").at(-1)!), 0o755)
    }
    for (const [soname, path] of [...libraries].sort()) { await copyFile(path, join(tree, "lib", soname)); await chmod(join(tree, "lib", soname), 0o644) }
    await copyFile(loader, join(tree, "lib", "ld-linux-x86-64.so.2"))
    await chmod(join(tree, "lib", "ld-linux-x86-64.so.2"), 0o755)
    const bytes = gzipInitramfs(await cpioOf(tree))
    if (bytes.length > MAX_BUNDLE_BYTES) throw new BuildFailed(`the tools bundle is ${bytes.length} bytes, over the ${MAX_BUNDLE_BYTES}-byte limit`)
    await writeFile(join(work, "tools.cpio.gz"), bytes)
    await rm(tree, { recursive: true, force: true })
    await mkdir(dirname(out), { recursive: true })
    if (existsSync(file)) await rm(work, { recursive: true, force: true })
    else { await rm(out, { recursive: true, force: true }); await rename(work, out) }
  }
  const bytes = await readFile(file)
  return {
    path: file, sha256: sha256(bytes), bytes: bytes.length, buildId, cached,
    packages: packages.map((p) => ({ name: p.name, version: p.version })),
  }
}
