// Validates what the application asks for (DeployBoot) into what an adapter may write. Every name
// that becomes part of a path (node uuid, MACs) or of a kernel argument is checked here, once, for
// both the TFTP adapter and the simulator. Pure: no I/O.
import * as E from "fp-ts/lib/Either.js"
import { Iqn, parseMac, parseUuid, type Mac, type Uuid } from "../../domain/values.ts"
import type { DeployBoot } from "../../ports/boot-configurator.ts"
import { isArgValue, type NodeFile, type PxeConfig } from "./pxelinux-config.ts"

export interface BootPlan {
  readonly nodeId: Uuid
  readonly macs: ReadonlyArray<Mac>
  /** Local source of each image file the node fetches; the instance's pair is absent for local boot. */
  readonly images: ReadonlyArray<readonly [Exclude<NodeFile, "config">, string]>
  readonly config: PxeConfig
}

/** pxelinux looks for `01-` (Ethernet) followed by the MAC, lowercase, dashes. */
export const linkNameOf = (mac: Mac): string => `01-${mac.replace(/:/g, "-")}`
/** The reverse of linkNameOf; null for names that are not MAC links. */
export const macOfLinkName = (name: string): Mac | null => {
  if (!/^01-[0-9a-f]{2}(-[0-9a-f]{2}){5}$/.test(name)) return null
  const mac = parseMac(name.slice(3))
  return E.isRight(mac) ? mac.right : null
}

/** The symlink target of a MAC link, relative so the tree can be moved or served chrooted. */
export const linkTargetOf = (nodeId: Uuid): string => `../${nodeId}/config`

export const checkNodeId = (nodeId: string): E.Either<string, Uuid> => parseUuid(nodeId)

/** Parses every MAC; one bad MAC refuses the whole list. Duplicates collapse. */
export const checkMacs = (macs: ReadonlyArray<string>): E.Either<string, ReadonlyArray<Mac>> => {
  const out: Mac[] = []
  for (const input of macs) {
    const mac = parseMac(input)
    if (E.isLeft(mac)) return mac
    if (!out.includes(mac.right)) out.push(mac.right)
  }
  return E.right(out)
}

// The key is random text made by the application; quotes, spaces and newlines would break the file.
const DEPLOY_KEY = /^[A-Za-z0-9._~+\/=-]{16,256}$/
const DEPLOY_ID = /^[A-Za-z0-9._:-]{1,128}$/

export const checkApiUrl = (apiUrl: string): E.Either<string, string> => {
  if (!isArgValue(apiUrl)) return E.left(`API URL ${JSON.stringify(apiUrl)} has spaces, quotes or control characters`)
  try {
    const url = new URL(apiUrl)
    if (url.protocol !== "http:" && url.protocol !== "https:") return E.left(`API URL ${apiUrl} is not http(s)`)
  } catch {
    return E.left(`API URL ${JSON.stringify(apiUrl)} is not a URL`)
  }
  return E.right(apiUrl)
}

/**
 * The plan for `prepareDeploy`. `apiUrlOverride` replaces boot.apiUrl when the operator configured
 * the address nodes must use to reach the API (e.g. behind NAT).
 */
export const planDeploy = (boot: DeployBoot, apiUrlOverride?: string): E.Either<string, BootPlan> => {
  const nodeId = checkNodeId(boot.nodeId)
  if (E.isLeft(nodeId)) return nodeId
  const macs = checkMacs(boot.macs)
  if (E.isLeft(macs)) return macs
  if (macs.right.length === 0) return E.left("no MAC address to boot from")
  if (!DEPLOY_ID.test(boot.deployId)) return E.left(`deploy id ${JSON.stringify(boot.deployId)} is not a plain token`)
  // The key itself never goes into a message.
  if (!DEPLOY_KEY.test(boot.deployKey)) return E.left("deploy key is not 16-256 characters of [A-Za-z0-9._~+/=-]")
  if (!Iqn.is(boot.iscsiIqn)) return E.left(`"${boot.iscsiIqn}" is not a valid iSCSI IQN`)
  const apiUrl = checkApiUrl(apiUrlOverride ?? boot.apiUrl)
  if (E.isLeft(apiUrl)) return apiUrl
  if ((boot.kernel === null) !== (boot.ramdisk === null)) return E.left("kernel and ramdisk go together: give both or neither")
  const sources: Array<readonly [Exclude<NodeFile, "config">, string | null]> = [
    ["deploy_kernel", boot.deployKernel], ["deploy_ramdisk", boot.deployRamdisk],
    ["kernel", boot.kernel], ["ramdisk", boot.ramdisk],
  ]
  const images: Array<readonly [Exclude<NodeFile, "config">, string]> = []
  for (const [name, source] of sources) {
    if (source === null) continue
    if (source === "" || source.includes("\0")) return E.left(`${name} source path is empty or invalid`)
    images.push([name, source])
  }
  return E.right({
    nodeId: nodeId.right,
    macs: macs.right,
    images,
    config: {
      nodeId: nodeId.right,
      defaultLabel: "deploy",
      deploy: { deployId: boot.deployId, deployKey: boot.deployKey, iscsiIqn: boot.iscsiIqn, apiUrl: apiUrl.right },
      boot: boot.kernel === null ? { kind: "local" } : { kind: "netboot", rootUuid: null },
    },
  })
}
