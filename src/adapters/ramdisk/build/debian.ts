// Debian packages as build inputs: the candidate version apt would install, downloaded once into
// the cache with `apt-get download` and unpacked with `dpkg -x` (nothing is installed on the host).
// Every apt call loads all of apt's package lists (seconds of CPU where apt keeps no binary cache),
// so calls are few and cover many packages each: one `apt-cache show` for all candidates, one
// `apt-get download` for every .deb missing from the cache (ADR 0135).
import { createHash } from "node:crypto"
import { createReadStream, existsSync } from "node:fs"
import { copyFile, mkdir, readdir, rename, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import { BuildFailed, run } from "./run.ts"

export interface DebianPackage {
  readonly name: string
  readonly version: string
  readonly architecture: string
  /** The .deb in the cache. */
  readonly deb: string
  readonly sha256: string
  /** Its unpacked tree. */
  readonly root: string
}

/** What apt's index says of a package's candidate version. */
export interface Candidate {
  readonly name: string
  readonly version: string
  readonly architecture: string
  /** The .deb's SHA256 from the index (absent for a version only dpkg knows). */
  readonly sha256?: string
  /** Depends and Pre-Depends: the first alternative of each, without versions. */
  readonly depends: ReadonlyArray<string>
}

const NAME = /^[a-z0-9][a-z0-9+.-]+$/
/** Where apt keeps the .debs it downloaded to install them: reused when the index's hash matches. */
const APT_ARCHIVES = "/var/cache/apt/archives"
/** dpkg -x runs side by side: each is mostly one process decompressing. */
const UNPACK_CONCURRENCY = 2

/**
 * apt's binary cache of its package lists, kept in the build cache: apt here keeps none of its own
 * (the image's `Dir::Cache::pkgcache ""`), so without it every call parses every list again
 * (1.5 s of CPU against 0.4 s). apt rebuilds it when the lists change, and writes it by rename.
 */
const aptCache = async (cacheDir: string | undefined): Promise<string[]> => {
  if (cacheDir === undefined) return []
  await mkdir(join(cacheDir, "apt"), { recursive: true })
  return ["-o", `Dir::Cache::pkgcache=${join(cacheDir, "apt", "pkgcache.bin")}`]
}

/** `apt-get download` names a file `<name>_<version with : escaped>_<arch>.deb`. */
const debFileName = (name: string, version: string, arch: string) => `${name}_${version.replace(/:/g, "%3a")}_${arch}.deb`

const field = (stanza: string, key: string) => stanza.match(new RegExp(`^${key}: (.+)$`, "m"))?.[1]?.trim()

const dependsIn = (stanza: string) =>
  [...stanza.matchAll(/^(?:Pre-)?Depends: (.+)$/gm)].flatMap((m) => m[1]!.split(","))
    .map((d) => d.split("|")[0]!.trim().split(/[\s:]/)[0]!).filter((d) => d !== "")

/** The candidate version of each package, in one apt-cache call (each call loads apt's cache). */
export const candidatesOf = async (names: ReadonlyArray<string>, cacheDir?: string): Promise<ReadonlyMap<string, Candidate>> => {
  for (const name of names) if (!NAME.test(name)) throw new BuildFailed(`${JSON.stringify(name)} is not a Debian package name`)
  const found = new Map<string, Candidate>()
  if (names.length === 0) return found
  const text = await run("apt-cache", [...await aptCache(cacheDir), "show", "--no-all-versions", ...new Set(names)])
    .catch((e: Error) => { throw new BuildFailed(`apt-cache does not know every one of ${names.join(", ")} (run apt-get update?): ${e.message}`) })
  for (const stanza of text.split(/\n\n+/)) {
    const name = field(stanza, "Package"), version = field(stanza, "Version"), architecture = field(stanza, "Architecture")
    if (name === undefined || version === undefined || architecture === undefined || found.has(name)) continue
    const sha256 = field(stanza, "SHA256")
    found.set(name, { name, version, architecture, depends: dependsIn(stanza), ...(sha256 === undefined ? {} : { sha256 }) })
  }
  for (const name of names) if (!found.has(name)) throw new BuildFailed(`apt-cache show gave no version of ${name}`)
  return found
}

/**
 * Every real package the roots depend on, recursively (Depends and Pre-Depends, every
 * alternative), in one apt-cache call: what a walk over the packages' dependencies may need.
 */
export const dependencyClosure = async (roots: ReadonlyArray<string>, cacheDir?: string): Promise<ReadonlyArray<string>> => {
  for (const name of roots) if (!NAME.test(name)) throw new BuildFailed(`${JSON.stringify(name)} is not a Debian package name`)
  const text = await run("apt-cache", [...await aptCache(cacheDir), "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
    "--no-breaks", "--no-replaces", "--no-enhances", ...roots])
  // Package lines start in the first column; virtual packages are shown as <name>.
  return [...new Set(text.split("\n").filter((l) => NAME.test(l.trim()) && l === l.trimStart()).map((l) => l.trim()))]
}

/** The versioned kernel package a meta package such as linux-image-amd64 points at. */
export const resolveMetaPackage = async (meta: string, cacheDir?: string): Promise<string> => {
  if (!NAME.test(meta)) throw new BuildFailed(`${JSON.stringify(meta)} is not a Debian package name`)
  const stanza = await run("apt-cache", [...await aptCache(cacheDir), "show", "--no-all-versions", meta])
  const target = field(stanza, "Depends")?.split(",")[0]?.trim().split(/\s/)[0]
  if (target === undefined || !NAME.test(target)) throw new BuildFailed(`${meta} names no package it depends on`)
  return target
}

/**
 * What apt's answers depend on: its whole configuration, and the size and time of its package
 * lists, dpkg's status, the sources and the pin preferences. The same fingerprint means the same
 * candidates, so a build may reuse what it resolved before without asking apt (apt-config loads
 * no package list: milliseconds).
 */
export const aptFingerprint = async (): Promise<string> => {
  const config = await run("apt-config", ["dump"])
  const dirs = await run("apt-config", ["shell", "L", "Dir::State::lists/d", "S", "Dir::State::status/f", "E", "Dir::Etc::sourcelist/f",
    "P", "Dir::Etc::sourceparts/d", "R", "Dir::Etc::preferences/f", "Q", "Dir::Etc::preferencesparts/d"])
  const paths = [...dirs.matchAll(/^\w+='(.*)'$/gm)].map((m) => m[1]!)
  const hash = createHash("sha256").update(config)
  const note = async (path: string) => {
    const s = await stat(path).catch(() => null)
    hash.update(`${path} ${s === null ? "-" : `${s.size} ${s.mtimeMs}`}\n`)
    if (s?.isDirectory() === true) for (const name of (await readdir(path)).sort()) await note(join(path, name))
  }
  for (const path of paths) await note(path)
  return hash.digest("hex")
}

const sha256Of = (path: string) => new Promise<string>((resolve, reject) => {
  const hash = createHash("sha256")
  createReadStream(path).on("data", (c) => hash.update(c)).on("error", reject).on("end", () => resolve(hash.digest("hex")))
})

/** Runs `work` over the items, at most `limit` at a time, results in the items' order. */
const pooled = async <A, B>(items: ReadonlyArray<A>, limit: number, work: (a: A) => Promise<B>): Promise<B[]> => {
  const out: B[] = new Array(items.length)
  let next = 0
  const worker = async () => { while (next < items.length) { const i = next++; out[i] = await work(items[i]!) } }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/**
 * The packages' candidate versions, downloaded and unpacked once into the cache. `known` holds
 * candidates already read from apt (no apt-cache call then). The .debs missing from the cache
 * come from apt's own archive when their hash matches the index, else from one `apt-get download`.
 */
export const fetchPackages = async (cacheDir: string, names: ReadonlyArray<string>, known?: ReadonlyMap<string, Candidate>): Promise<ReadonlyArray<DebianPackage>> => {
  const unique = [...new Set(names)]
  const asked = await candidatesOf(unique.filter((n) => known?.get(n) === undefined), cacheDir)
  const wanted = unique.map((n) => known?.get(n) ?? asked.get(n)!)
  const debs = join(cacheDir, "debs")
  await mkdir(debs, { recursive: true })
  const missing: Candidate[] = []
  for (const c of wanted) {
    const deb = join(debs, debFileName(c.name, c.version, c.architecture))
    if (existsSync(deb)) continue
    const archived = join(APT_ARCHIVES, debFileName(c.name, c.version, c.architecture))
    if (c.sha256 !== undefined && existsSync(archived) && await sha256Of(archived) === c.sha256) {
      await copyFile(archived, `${deb}.${process.pid}`)
      await rename(`${deb}.${process.pid}`, deb)
    } else missing.push(c)
  }
  await download(cacheDir, missing)
  const unpacked = new Map((await pooled(wanted, UNPACK_CONCURRENCY, (c) => unpack(cacheDir, c))).map((p) => [p.name, p]))
  return names.map((n) => unpacked.get(n)!)
}

/** One `apt-get download` for all of them (apt checks each file against the index's hashes). */
const download = async (cacheDir: string, candidates: ReadonlyArray<Candidate>) => {
  if (candidates.length === 0) return
  // Download beside the cache, then rename: an interrupted download never looks complete. Each
  // process has its own partial dir, so builds running side by side never clobber each other.
  const partial = join(cacheDir, `partial.${process.pid}`)
  await rm(partial, { recursive: true, force: true })
  await mkdir(partial, { recursive: true })
  try {
    await run("apt-get", [...await aptCache(cacheDir), "download", "-q", ...candidates.map((c) => `${c.name}=${c.version}`)], { cwd: partial })
    for (const c of candidates) {
      const file = debFileName(c.name, c.version, c.architecture)
      await rename(join(partial, file), join(cacheDir, "debs", file))
    }
  } finally {
    await rm(partial, { recursive: true, force: true })
  }
}

const unpack = async (cacheDir: string, c: Candidate): Promise<DebianPackage> => {
  const file = debFileName(c.name, c.version, c.architecture)
  const deb = join(cacheDir, "debs", file)
  const sha256 = await sha256Of(deb)
  if (c.sha256 !== undefined && sha256 !== c.sha256) {
    // A cached file apt's index disagrees with (truncated, or a rebuilt package): fetched again next time.
    await rm(deb, { force: true })
    throw new BuildFailed(`${file} in the cache has sha256 ${sha256}, apt's index says ${c.sha256}: removed, build again`)
  }
  const root = join(cacheDir, "unpacked", `${file}.${sha256.slice(0, 12)}`)
  if (!existsSync(root)) {
    const tmp = `${root}.tmp.${process.pid}`
    await rm(tmp, { recursive: true, force: true })
    await mkdir(tmp, { recursive: true })
    await run("dpkg", ["-x", deb, tmp])
    // Another process may have unpacked the same package meanwhile: its copy is as good as ours.
    await rename(tmp, root).catch(async (e) => { if (existsSync(root)) await rm(tmp, { recursive: true, force: true }); else throw e })
  }
  return { name: c.name, version: c.version, architecture: c.architecture, deb, sha256, root }
}
