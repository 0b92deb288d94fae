// Debian packages as build inputs: the candidate version apt would install, downloaded once into
// the cache with `apt-get download` and unpacked with `dpkg -x` (nothing is installed on the host).
import { createHash } from "node:crypto"
import { createReadStream, existsSync } from "node:fs"
import { mkdir, rename, rm } from "node:fs/promises"
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

const NAME = /^[a-z0-9][a-z0-9+.-]+$/

/** `apt-get download` names a file `<name>_<version with : escaped>_<arch>.deb`. */
const debFileName = (name: string, version: string, arch: string) => `${name}_${version.replace(/:/g, "%3a")}_${arch}.deb`

const field = (stanza: string, key: string) => stanza.match(new RegExp(`^${key}: (.+)$`, "m"))?.[1]?.trim()

/** The candidate version of each package, in one apt-cache call (each call loads apt's cache). */
const candidates = async (names: ReadonlyArray<string>) => {
  for (const name of names) if (!NAME.test(name)) throw new BuildFailed(`${JSON.stringify(name)} is not a Debian package name`)
  const text = await run("apt-cache", ["show", "--no-all-versions", ...names])
    .catch((e: Error) => { throw new BuildFailed(`apt-cache does not know every one of ${names.join(", ")} (run apt-get update?): ${e.message}`) })
  const found = new Map<string, { version: string; architecture: string }>()
  for (const stanza of text.split(/\n\n+/)) {
    const name = field(stanza, "Package"), version = field(stanza, "Version"), architecture = field(stanza, "Architecture")
    if (name !== undefined && version !== undefined && architecture !== undefined && !found.has(name)) found.set(name, { version, architecture })
  }
  return names.map((name) => {
    const c = found.get(name)
    if (c === undefined) throw new BuildFailed(`apt-cache show gave no version of ${name}`)
    return { name, ...c }
  })
}

/** The versioned kernel package a meta package such as linux-image-amd64 points at. */
export const resolveMetaPackage = async (meta: string): Promise<string> => {
  if (!NAME.test(meta)) throw new BuildFailed(`${JSON.stringify(meta)} is not a Debian package name`)
  const stanza = await run("apt-cache", ["show", "--no-all-versions", meta])
  const target = field(stanza, "Depends")?.split(",")[0]?.trim().split(/\s/)[0]
  if (target === undefined || !NAME.test(target)) throw new BuildFailed(`${meta} names no package it depends on`)
  return target
}

const sha256Of = (path: string) => new Promise<string>((resolve, reject) => {
  const hash = createHash("sha256")
  createReadStream(path).on("data", (c) => hash.update(c)).on("error", reject).on("end", () => resolve(hash.digest("hex")))
})

/** The packages' candidate versions, downloaded and unpacked once into the cache. */
export const fetchPackages = async (cacheDir: string, names: ReadonlyArray<string>): Promise<ReadonlyArray<DebianPackage>> => {
  const out: DebianPackage[] = []
  for (const c of await candidates(names)) out.push(await fetchOne(cacheDir, c.name, c.version, c.architecture))
  return out
}

const fetchOne = async (cacheDir: string, name: string, version: string, architecture: string): Promise<DebianPackage> => {
  const debs = join(cacheDir, "debs")
  await mkdir(debs, { recursive: true })
  const file = debFileName(name, version, architecture)
  const deb = join(debs, file)
  if (!existsSync(deb)) {
    // Download beside the cache, then rename: an interrupted download never looks complete. Each
    // process has its own partial dir, so builds running side by side never clobber each other.
    const partial = join(cacheDir, `partial.${process.pid}`)
    await rm(partial, { recursive: true, force: true })
    await mkdir(partial, { recursive: true })
    await run("apt-get", ["download", "-q", `${name}=${version}`], { cwd: partial })
    await rename(join(partial, file), deb)
    await rm(partial, { recursive: true, force: true })
  }
  const sha256 = await sha256Of(deb)
  const root = join(cacheDir, "unpacked", `${file}.${sha256.slice(0, 12)}`)
  if (!existsSync(root)) {
    const tmp = `${root}.tmp.${process.pid}`
    await rm(tmp, { recursive: true, force: true })
    await mkdir(tmp, { recursive: true })
    await run("dpkg", ["-x", deb, tmp])
    // Another process may have unpacked the same package meanwhile: its copy is as good as ours.
    await rename(tmp, root).catch(async (e) => { if (existsSync(root)) await rm(tmp, { recursive: true, force: true }); else throw e })
  }
  return { name, version, architecture, deb, sha256, root }
}
