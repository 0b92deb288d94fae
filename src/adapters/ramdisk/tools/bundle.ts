// The ramdisk's tools bundle (ADR 0100): stress-ng, memtester and fio from Debian with exactly the
// shared libraries they load, as a gzip'd cpio archive the service serves over HTTP and the
// ramdisk fetches when a burn-in step runs. The deploy initramfs stays small (TFTP carries it); the
// bundle travels over HTTP, once per burn-in. Built and cached like the ramdisk: same inputs, same
// bytes, a cache key derived from every package's hash.
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { promisify } from "node:util"
import { gzip } from "node:zlib"
import { lock } from "proper-lockfile"
import { cpioOf } from "../build/cpio.ts"
import { aptFingerprint, candidatesOf, dependencyClosure, fetchPackages, type Candidate, type DebianPackage } from "../build/debian.ts"
import { neededLibraries } from "../build/elf.ts"
import { BuildFailed } from "../build/run.ts"

const RECIPE = "ironledger-ramdisk-tools-2"
/** The tools and where each package keeps its binary. */
export const TOOLS = [
  { package: "stress-ng", binary: "usr/bin/stress-ng" },
  { package: "memtester", binary: "usr/sbin/memtester" },
  { package: "fio", binary: "usr/bin/fio" },
] as const
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024
/** gzip level 6: within 0.3 % of level 9's size for a third of its CPU time (ADR 0135). */
const GZIP_LEVEL = 6
const LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/ceph", "lib64", "lib", "usr/lib"]
/** Depends that are never where a shared library comes from. */
const NOT_LIBRARIES = /^(python3.*|init-system-helpers|debconf.*|lsb-base|adduser|dpkg|perl.*|.*-common|.*-data|ceph-common)$/
/** How long a second build waits for the first one to finish with the cache (ADR 0135). */
const LOCK_WAIT_MS = 20 * 60_000

export interface ToolsBundle {
  readonly path: string
  readonly sha256: string
  readonly bytes: number
  readonly buildId: string
  readonly cached: boolean
  readonly packages: ReadonlyArray<{ readonly name: string; readonly version: string }>
}

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex")

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
 * apt is asked twice, up front (the dependency closure, then every candidate in it); then each
 * round of the walk downloads what all its missing libraries need in one `apt-get download`.
 */
const gather = async (cacheDir: string, log: (line: string) => void) => {
  const roots = TOOLS.map((t) => t.package)
  const index = await candidatesOf((await dependencyClosure(roots, cacheDir)).filter((n) => !NOT_LIBRARIES.test(n)), cacheDir)
  const dependsOf = (names: ReadonlyArray<string>) =>
    [...new Set(names.filter((n) => !NOT_LIBRARIES.test(n)).flatMap((n) => index.get(n)?.depends ?? []))]
  const fetched = new Map<string, DebianPackage>()
  const fetch = async (names: ReadonlyArray<string>) => {
    const fresh = [...new Set(names)].filter((n) => !fetched.has(n) && !NOT_LIBRARIES.test(n) && index.has(n))
    if (fresh.length === 0) return
    log(`tools bundle: fetching ${fresh.length} package(s)`)
    for (const p of await fetchPackages(cacheDir, fresh, index as ReadonlyMap<string, Candidate>)) fetched.set(p.name, p)
  }
  await fetch(roots)
  const files = new Map<string, string>() // soname -> path
  let pending: Array<{ file: string; owner: string }> = TOOLS.map((t) => ({ file: join(fetched.get(t.package)!.root, t.binary), owner: t.package }))
  while (pending.length > 0) {
    const next: Array<{ file: string; owner: string }> = []
    const take = (soname: string, found: NonNullable<ReturnType<typeof findLibrary>>) => {
      files.set(soname, found.path)
      next.push({ file: found.path, owner: found.pkg.name })
    }
    const misses: Array<{ soname: string; file: string; level: ReadonlyArray<string> }> = []
    for (const { file, owner } of pending) for (const soname of await neededLibraries(file)) {
      if (files.has(soname) || misses.some((m) => m.soname === soname)) continue
      const found = findLibrary(fetched.values(), soname)
      if (found !== null) take(soname, found)
      else misses.push({ soname, file, level: [owner] })
    }
    // Not among what is fetched yet: what the needing packages depend on, then what those depend
    // on (a library moved to a sibling package), one download for each level.
    for (let depth = 0; depth < 2; depth++) {
      const open = misses.filter((m) => !files.has(m.soname))
      if (open.length === 0) break
      for (const m of open) m.level = dependsOf(m.level)
      await fetch(open.flatMap((m) => m.level))
      for (const m of open) {
        const found = findLibrary(fetched.values(), m.soname)
        if (found !== null) take(m.soname, found)
      }
    }
    const lost = misses.find((m) => !files.has(m.soname))
    if (lost !== undefined) throw new BuildFailed(`${lost.soname} (needed by ${lost.file}) is in none of the packages the tools depend on`)
    pending = next
  }
  const loader = findLibrary(fetched.values(), "ld-linux-x86-64.so.2")
  if (loader === null) throw new BuildFailed("ld-linux-x86-64.so.2 is in none of the fetched packages")
  return { packages: [...fetched.values()].sort((a, b) => a.name.localeCompare(b.name)), libraries: files, loader: loader.path }
}

/** What a build resolved under one state of apt: with the same state, the same bundle (no apt call). */
interface Resolved { readonly buildId: string; readonly packages: ToolsBundle["packages"] }
const resolvedFile = (cacheDir: string, aptState: string) => join(cacheDir, "tools", "resolved", `${sha256(JSON.stringify({ RECIPE, TOOLS, aptState }))}.json`)
const readResolved = async (path: string): Promise<Resolved | null> => {
  try {
    const v = JSON.parse(await readFile(path, "utf8")) as Resolved
    return typeof v.buildId === "string" && /^[0-9a-f]{64}$/.test(v.buildId) && Array.isArray(v.packages) ? v : null
  } catch {
    return null
  }
}

/**
 * Builds (or finds in the cache) the bundle: bin/<tool>, lib/<soname>, lib/ld-linux-x86-64.so.2.
 * Builds sharing one cache dir take turns (a lock in it): the first builds, the others then find
 * its bundle. Should the lock be lost, each build still writes in a work dir of its own and
 * publishes by rename, so the cache never holds a half-written bundle.
 */
export const buildToolsBundle = async (options: { readonly cacheDir: string; readonly log?: (line: string) => void }): Promise<ToolsBundle> => {
  const log = options.log ?? (() => {})
  await mkdir(options.cacheDir, { recursive: true })
  const release = await lock(options.cacheDir, {
    lockfilePath: join(options.cacheDir, "tools.lock"), realpath: false, stale: 60_000,
    retries: { retries: LOCK_WAIT_MS / 1000, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
    onCompromised: (e) => log(`tools bundle: the cache's lock was lost (${e.message}); building on regardless`),
  }).catch((e: Error) => { throw new BuildFailed(`the tools bundle cache ${options.cacheDir} stayed locked by another build: ${e.message}`) })
  try {
    return await build(options.cacheDir, log)
  } finally {
    await release().catch(() => {})
  }
}

const build = async (cacheDir: string, log: (line: string) => void): Promise<ToolsBundle> => {
  const bundleOf = async (buildId: string, packages: ToolsBundle["packages"], cached: boolean): Promise<ToolsBundle> => {
    const path = join(cacheDir, "tools", buildId, "tools.cpio.gz")
    const bytes = await readFile(path)
    return { path, sha256: sha256(bytes), bytes: bytes.length, buildId, cached, packages }
  }
  const memo = resolvedFile(cacheDir, await aptFingerprint())
  const known = await readResolved(memo)
  if (known !== null && existsSync(join(cacheDir, "tools", known.buildId, "tools.cpio.gz"))) return bundleOf(known.buildId, known.packages, true)

  log(`tools bundle: ${TOOLS.map((t) => t.package).join(", ")} and their libraries`)
  const { packages, libraries, loader } = await gather(cacheDir, log)
  const buildId = sha256(JSON.stringify({ RECIPE, packages: packages.map((p) => [p.name, p.version, p.sha256]), libs: [...libraries.keys()].sort() }))
  const out = join(cacheDir, "tools", buildId)
  const file = join(out, "tools.cpio.gz")
  const cached = existsSync(file)
  if (!cached) {
    log(`tools bundle: packing ${libraries.size} libraries from ${packages.length} packages`)
    const work = join(cacheDir, `tools-work.${process.pid}`)
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
    // Off the event loop (the lock's keep-alive runs meanwhile); Node's gzip writes no name or time.
    const bytes = await promisify(gzip)(await cpioOf(tree), { level: GZIP_LEVEL })
    if (bytes.length > MAX_BUNDLE_BYTES) throw new BuildFailed(`the tools bundle is ${bytes.length} bytes, over the ${MAX_BUNDLE_BYTES}-byte limit`)
    await writeFile(join(work, "tools.cpio.gz"), bytes)
    await rm(tree, { recursive: true, force: true })
    await mkdir(dirname(out), { recursive: true })
    if (existsSync(file)) await rm(work, { recursive: true, force: true })
    else { await rm(out, { recursive: true, force: true }); await rename(work, out) }
  }
  const resolved: Resolved = { buildId, packages: packages.map((p) => ({ name: p.name, version: p.version })) }
  await mkdir(dirname(memo), { recursive: true })
  await writeFile(`${memo}.${process.pid}`, JSON.stringify(resolved) + "\n")
  await rename(`${memo}.${process.pid}`, memo)
  return bundleOf(buildId, resolved.packages, cached)
}
