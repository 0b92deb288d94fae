// The config drive of a deploy or rebuild (ADR 0053): Ironic's `configdrive` in the provision
// request, either a base64 gzipped filesystem image or JSON {meta_data, user_data, network_data,
// vendor_data} built into an ISO9660 filesystem labelled config-2, laid out as cloud-init's
// ConfigDrive source reads it. It is checked before the request is accepted, sealed and kept outside
// the log; the log records only its sha256 and size. It may hold passwords and keys: no message
// here quotes its content.
import { createHash } from "node:crypto"
import { gunzipSync, gzipSync } from "node:zlib"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as E from "fp-ts/lib/Either.js"
import { MAX_CONFIG_DRIVE_MB, MiB, type ConfigDriveRef, type NodeState, type NonNegativeInt } from "../domain/index.ts"
import type { ConfigDriveFile, ConfigDriveMedia } from "../ports/config-drives.ts"
import { ConfigDriveFailed } from "../ports/config-drives.ts"
import type { Secrets } from "../ports/index.ts"
import { InvalidInput } from "./node-service.ts"

export type ConfigDriveInput = string | { readonly [key: string]: unknown }

export const MAX_CONFIG_DRIVE_BYTES = MAX_CONFIG_DRIVE_MB * MiB

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)
const utf8 = (s: string) => new TextEncoder().encode(s)

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  at + length <= bytes.length ? String.fromCharCode(...bytes.subarray(at, at + length)) : ""

/** The filesystem a drive holds, from its first sectors: what cloud-init's ConfigDrive source mounts. */
export const driveFilesystem = (bytes: Uint8Array): "iso9660" | "vfat" | null => {
  if (ascii(bytes, 32769, 5) === "CD001") return "iso9660"
  const bootSector = bytes.length >= 512 && bytes[510] === 0x55 && bytes[511] === 0xaa
  if (bootSector && (ascii(bytes, 54, 3) === "FAT" || ascii(bytes, 82, 5) === "FAT32")) return "vfat"
  return null
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Ironic's form: base64 of a gzipped ISO9660 (or VFAT) image, at most 64 MiB unpacked. */
export const decodePackedDrive = (text: string): E.Either<string, Uint8Array> => {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return E.left("configdrive URLs are not fetched: send the base64 gzipped image, or the JSON form")
  const compact = text.replace(/\s+/g, "")
  if (compact === "") return E.left("configdrive is empty")
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return E.left("configdrive is neither valid base64 nor a JSON object")
  const packed = Buffer.from(compact, "base64")
  if (packed.length < 2 || packed[0] !== 0x1f || packed[1] !== 0x8b) return E.left("configdrive must be gzipped before base64 encoding (no gzip header found)")
  let drive: Buffer
  try {
    drive = gunzipSync(packed, { maxOutputLength: MAX_CONFIG_DRIVE_BYTES })
  } catch (e) {
    const tooBig = (e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError
    return E.left(tooBig ? `the config drive is larger than the limit of ${MAX_CONFIG_DRIVE_MB} MiB once unpacked` : "configdrive's gzip data is corrupt")
  }
  if (driveFilesystem(drive) === null) return E.left("the unpacked config drive is neither an ISO9660 nor a VFAT filesystem")
  return E.right(new Uint8Array(drive.buffer, drive.byteOffset, drive.length))
}

const JSON_KEYS = new Set(["meta_data", "user_data", "network_data", "vendor_data"])

/**
 * The files of the JSON form, under openstack/latest/ as cloud-init reads them. As in Ironic,
 * meta_data's uuid and name default to the node's.
 */
export const filesOfJsonDrive = (input: { readonly [key: string]: unknown }, node: Pick<NodeState, "nodeId" | "name">): E.Either<string, ConfigDriveFile[]> => {
  const unknown = Object.keys(input).filter((k) => !JSON_KEYS.has(k))
  if (unknown.length > 0) return E.left(`configdrive has unknown key(s) ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; allowed: meta_data, user_data, network_data, vendor_data`)
  for (const key of ["meta_data", "network_data", "vendor_data"]) {
    const v = input[key]
    if (v !== undefined && v !== null && !isObject(v)) return E.left(`configdrive.${key} must be a JSON object`)
  }
  const userData = input["user_data"]
  if (userData !== undefined && userData !== null && typeof userData !== "string" && typeof userData !== "object") {
    return E.left("configdrive.user_data must be a string, or a JSON object or array")
  }
  const given = (input["meta_data"] ?? {}) as Record<string, unknown>
  const meta = { uuid: node.nodeId, ...(node.name === null ? {} : { name: node.name }), ...given }
  const file = (name: string, content: string): ConfigDriveFile => ({ path: `openstack/latest/${name}`, content: utf8(content) })
  const files = [file("meta_data.json", JSON.stringify(meta))]
  if (userData !== undefined && userData !== null) files.push(file("user_data", typeof userData === "string" ? userData : JSON.stringify(userData)))
  if (isObject(input["network_data"])) files.push(file("network_data.json", JSON.stringify(input["network_data"])))
  if (isObject(input["vendor_data"])) files.push(file("vendor_data2.json", JSON.stringify(input["vendor_data"])))
  const total = files.reduce((n, f) => n + f.content.length, 0)
  if (total > MAX_CONFIG_DRIVE_BYTES) return E.left(`the config drive's files add up to more than ${MAX_CONFIG_DRIVE_MB} MiB`)
  return E.right(files)
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Checks a request's config drive (refusals are InvalidInput, failures to build or keep it ConfigDriveFailed); null when the node's deploy writes none (Ironic's fake deploy ignores it too). */
export const acceptConfigDrive = (
  input: ConfigDriveInput,
  node: NodeState,
  media: ConfigDriveMedia | null,
  secrets: Secrets["Service"],
): Effect.Effect<ConfigDriveRef | null, ConfigDriveFailed | InvalidInput> =>
  Effect.gen(function* () {
    const refuse = (reason: string) => Effect.fail(new InvalidInput({ reason }))
    let iso: Uint8Array | null = null
    let files: ConfigDriveFile[] = []
    if (typeof input === "string") {
      const packed = decodePackedDrive(input)
      if (E.isLeft(packed)) return yield* refuse(packed.left)
      iso = packed.right
    } else {
      const built = filesOfJsonDrive(input, node)
      if (E.isLeft(built)) return yield* refuse(built.left)
      files = built.right
    }
    if (media === null) return null
    iso ??= yield* media.build(files)
    if (iso.length > MAX_CONFIG_DRIVE_BYTES) return yield* refuse(`the config drive built is ${iso.length} bytes, over the limit of ${MAX_CONFIG_DRIVE_MB} MiB`)
    const ref: ConfigDriveRef = { sha256: sha256(iso), bytes: iso.length as NonNegativeInt }
    yield* media.save(ref.sha256, yield* secrets.seal(gzipSync(iso).toString("base64")))
    return ref
  })

/** The drive a deploy recorded, opened and checked against its sha256. */
export const openConfigDrive = (ref: ConfigDriveRef, media: ConfigDriveMedia, secrets: Secrets["Service"]): Effect.Effect<Uint8Array, ConfigDriveFailed> =>
  Effect.gen(function* () {
    const fail = (reason: string) => new ConfigDriveFailed({ reason: `config drive ${ref.sha256.slice(0, 12)}: ${reason}` })
    const sealed = yield* media.load(ref.sha256)
    const packed = yield* secrets.open(sealed).pipe(Effect.mapError((e) => fail(e.message)))
    const iso = yield* Effect.try({
      try: () => gunzipSync(Buffer.from(Redacted.value(packed), "base64"), { maxOutputLength: MAX_CONFIG_DRIVE_BYTES }),
      catch: () => fail("the kept copy does not unpack"),
    })
    if (sha256(iso) !== ref.sha256) return yield* Effect.fail(fail("the kept copy does not match the recorded sha256"))
    return new Uint8Array(iso.buffer, iso.byteOffset, iso.length)
  })
