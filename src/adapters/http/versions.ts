// API microversions (Ironic's X-OpenStack-Ironic-API-Version). We serve 1.1 up to 1.78, the
// version Debian's `baremetal` CLI 5.0.1 asks for first, so it needs no fallback round trip.
import * as E from "fp-ts/lib/Either.js"

export const minVersion = 1
export const maxVersion = 78
export const versionHeader = "x-openstack-ironic-api-version"

export const versionString = (minor: number): string => `1.${minor}`

export interface VersionRefusal {
  readonly description: string
}

/** Absent means the minimum; `latest` the maximum; anything else must be 1.N within range. */
export const negotiate = (header: string | undefined): E.Either<VersionRefusal, number> => {
  if (header === undefined) return E.right(minVersion)
  const value = header.trim()
  if (value.toLowerCase() === "latest") return E.right(maxVersion)
  const match = /^(\d{1,3})\.(\d{1,4})$/.exec(value)
  if (match === null) {
    return E.left({ description: `Invalid value for X-OpenStack-Ironic-API-Version header: ${printable(value)}.` })
  }
  const major = Number(match[1])
  const minor = Number(match[2])
  if (major !== 1 || minor < minVersion || minor > maxVersion) {
    return E.left({
      description: `Version ${major}.${minor} was requested but the minor version is not supported by this service. ` +
        `The supported version range is: [${versionString(minVersion)}, ${versionString(maxVersion)}].`,
    })
  }
  return E.right(minor)
}

/** Keeps an echoed header value short and free of control characters. */
const printable = (s: string): string => JSON.stringify(s.slice(0, 40))

/** Headers every /v1 answer carries. */
export const versionHeaders = (minor: number | null): Record<string, string> => ({
  "X-OpenStack-Ironic-API-Minimum-Version": versionString(minVersion),
  "X-OpenStack-Ironic-API-Maximum-Version": versionString(maxVersion),
  ...(minor === null ? {} : { "X-OpenStack-Ironic-API-Version": versionString(minor) }),
})

const v1Links = (base: string) => [{ href: `${base}/v1/`, rel: "self" }]

const v1Summary = (base: string) => ({
  id: "v1",
  links: v1Links(base),
  status: "CURRENT",
  min_version: versionString(minVersion),
  version: versionString(maxVersion),
})

/** GET / */
export const rootDocument = (base: string) => ({
  name: "OpenStack Ironic API",
  description: "ironledger: bare-metal provisioning with an event-sourced node lifecycle, " +
    "speaking the Ironic v1 API.",
  default_version: v1Summary(base),
  versions: [v1Summary(base)],
})

const collectionLinks = (base: string, name: string) => [
  { href: `${base}/v1/${name}/`, rel: "self" },
  { href: `${base}/${name}/`, rel: "bookmark" },
]

/** GET /v1 */
export const v1Document = (base: string) => ({
  id: "v1",
  links: v1Links(base),
  media_types: [{ base: "application/json", type: "application/vnd.openstack.ironic.v1+json" }],
  version: v1Summary(base),
  nodes: collectionLinks(base, "nodes"),
  ports: collectionLinks(base, "ports"),
  drivers: collectionLinks(base, "drivers"),
  lookup: collectionLinks(base, "lookup"),
  heartbeat: collectionLinks(base, "heartbeat"),
  allocations: collectionLinks(base, "allocations"),
  deploy_templates: collectionLinks(base, "deploy_templates"),
  events: collectionLinks(base, "events"),
})
