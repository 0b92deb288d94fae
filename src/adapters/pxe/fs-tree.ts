// Ironic's TFTP tree on disk:
//   ROOT/<uuid>/{config,kernel,ramdisk,deploy_kernel,deploy_ramdisk}
//   ROOT/pxelinux.cfg/01-<mac, lowercase, dashes> -> ../<uuid>/config   (relative symlinks)
//   ROOT/<uuid>/macs: the MACs whose links may name the node, one a line (no walk to find them)
// Every change is a rename of a finished temporary in the same directory, so the TFTP server
// never serves a half-written file or a missing link. Modes are world-readable because dnsmasq
// reads the tree after dropping root (as "nobody").
import { randomBytes } from "node:crypto"
import { chmod, copyFile, link, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as E from "fp-ts/lib/Either.js"
import { parseMac, parseUuid, type Mac, type Uuid } from "../../domain/values.ts"
import { linkNameOf, linkTargetOf, macOfLinkName } from "./boot-plan.ts"
import type { BootTree, ImageFile } from "./boot-tree.ts"
import { NODE_FILES } from "./pxelinux-config.ts"

const DIR_MODE = 0o755
const FILE_MODE = 0o644

export const PXELINUX_CFG = "pxelinux.cfg"
/** Beside the node's config: MACs are no secret (every DHCP request carries one). */
const MACS_FILE = "macs"

const errno = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code
const isMissing = (e: unknown) => errno(e) === "ENOENT"

/** A temporary name beside `path`: same directory, hence same filesystem, so rename is atomic. */
const tempBeside = (dir: string, name: string) => join(dir, `.${name}.tmp-${randomBytes(6).toString("hex")}`)

/** Runs `make(tmp)`, then renames tmp over `dir/name`; the temporary never survives. */
const replaceWith = async (dir: string, name: string, make: (tmp: string) => Promise<void>) => {
  const tmp = tempBeside(dir, name)
  try {
    await make(tmp)
    await rename(tmp, join(dir, name))
  } finally {
    // rename() of two links to one inode succeeds and leaves both names: remove ours.
    await rm(tmp, { force: true })
  }
}

/** `flush: false` for what a restart rebuilds anyway (a node's record of MACs): no fsync per write. */
export const writeFileAtomic = (dir: string, name: string, content: string | Uint8Array, flush = true) =>
  replaceWith(dir, name, async (tmp) => {
    await writeFile(tmp, content, { flush, mode: FILE_MODE })
    await chmod(tmp, FILE_MODE) // the umask may have taken bits away
  })

/** Copies `source` into `dir` as `name`, world-readable (bootloader files). */
export const installCopy = (dir: string, name: string, source: string) =>
  replaceWith(dir, name, async (tmp) => {
    await copyFile(source, tmp)
    await chmod(tmp, FILE_MODE)
  })

/** Hard link when source and tree share a filesystem (no copy, survives the cache's collect); copy otherwise. */
const linkOrCopy = async (source: string, tmp: string) => {
  try {
    await link(source, tmp)
  } catch (e) {
    // EXDEV: another filesystem; EPERM/EMLINK/ENOTSUP: a filesystem or policy without hard links.
    if (!["EXDEV", "EPERM", "EMLINK", "ENOTSUP", "EOPNOTSUPP"].includes(errno(e) ?? "")) throw e
    await copyFile(source, tmp)
    await chmod(tmp, FILE_MODE)
  }
}

/**
 * The real path of a regular file. Symlinks are resolved first: a hard link to a symlink would
 * keep a relative target that means something else inside the tree.
 */
const regularFile = async (source: string) => {
  const real = await realpath(source)
  if (!(await stat(real)).isFile()) throw new Error(`${source} is not a regular file`)
  return real
}

export const makeFsTree = async (root: string): Promise<BootTree> => {
  const cfgDir = join(root, PXELINUX_CFG)
  await mkdir(cfgDir, { recursive: true, mode: DIR_MODE })
  const nodeDir = (nodeId: Uuid) => join(root, nodeId)
  const ensureNodeDir = async (nodeId: Uuid) => {
    await mkdir(nodeDir(nodeId), { recursive: true, mode: DIR_MODE })
    await chmod(nodeDir(nodeId), DIR_MODE)
  }

  const tree: BootTree = {
    readConfig: async (nodeId) => {
      try { return await readFile(join(nodeDir(nodeId), "config"), "utf8") }
      catch (e) { if (isMissing(e)) return null; throw e }
    },

    writeConfig: async (nodeId, text) => {
      await ensureNodeDir(nodeId)
      await writeFileAtomic(nodeDir(nodeId), "config", text)
    },

    checkSource: async (source) => { await regularFile(source) },

    placeImage: async (nodeId, name, source) => {
      const real = await regularFile(source)
      await ensureNodeDir(nodeId)
      await replaceWith(nodeDir(nodeId), name, (tmp) => linkOrCopy(real, tmp))
    },

    pruneImages: async (nodeId, keep) => {
      const images = NODE_FILES.filter((n): n is ImageFile => n !== "config" && !keep.includes(n as ImageFile))
      await Promise.all(images.map((n) => rm(join(nodeDir(nodeId), n), { force: true })))
    },

    linkOf: async (mac) => {
      let target: string
      try { target = await readlink(join(cfgDir, linkNameOf(mac))) }
      catch (e) { if (isMissing(e) || errno(e) === "EINVAL") return null; throw e } // none, or not a link
      const named = /^\.\.\/([^/]+)\/config$/.exec(target)
      const nodeId = named === null ? null : parseUuid(named[1]!)
      return { nodeId: nodeId !== null && E.isRight(nodeId) && linkTargetOf(nodeId.right) === target ? nodeId.right : null }
    },

    links: async () => {
      const macs = (await readdir(cfgDir)).map(macOfLinkName).filter((m): m is Mac => m !== null)
      const owners = await Promise.all(macs.map((mac) => tree.linkOf(mac)))
      return macs.flatMap((mac, i) => owners[i] === null ? [] : [{ mac, nodeId: owners[i]!.nodeId }])
    },

    hasConfig: async (nodeId) => {
      try { return (await stat(join(nodeDir(nodeId), "config"))).isFile() }
      catch (e) { if (isMissing(e)) return false; throw e }
    },

    link: (mac, nodeId) => replaceWith(cfgDir, linkNameOf(mac), (tmp) => symlink(linkTargetOf(nodeId), tmp)),

    unlink: (mac) => rm(join(cfgDir, linkNameOf(mac)), { force: true }),

    macsOf: async (nodeId) => {
      let text: string
      try { text = await readFile(join(nodeDir(nodeId), MACS_FILE), "utf8") }
      catch (e) { if (isMissing(e)) return []; throw e }
      return text.split("\n").flatMap((line) => {
        const mac = parseMac(line)
        return E.isRight(mac) ? [mac.right] : []
      })
    },

    recordMacs: async (nodeId, macs) => {
      await ensureNodeDir(nodeId)
      // Not flushed: a record lost in a crash is rebuilt by the start-up pass (reconcile.ts).
      await writeFileAtomic(nodeDir(nodeId), MACS_FILE, macs.map((m) => `${m}\n`).join(""), false)
    },

    removeNode: (nodeId) => rm(nodeDir(nodeId), { recursive: true, force: true }),
  }
  return tree
}
