// A LUN reached through qemu's userspace libiscsi driver (no kernel initiator): qemu-img for sizes and
// copies, qemu-io for small reads and writes, every range addressed with the raw driver's offset/size.
// The CHAP secret goes to qemu as a secret object read from a 0600 file, never on argv.
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { BlockTarget } from "../../ports/block-writer.ts"
import { progressPercents } from "./disk-format.ts"
import { DiskFault, type BuiltFilesystem, type ByteRange, type DiskAccess, type DiskWrite, type SourceImage } from "./disk-access.ts"
import { runCommand, type CommandFailed } from "./process.ts"

export const targetName = (t: Pick<BlockTarget, "portal" | "port" | "iqn" | "lun">) => `iscsi://${t.portal}:${t.port}/${t.iqn}/${t.lun}`

const IQN = /^(iqn\.\d{4}-\d{2}\.[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[^\s,]+)?|eui\.[0-9a-f]{16}|naa\.[0-9a-f]{16}([0-9a-f]{16})?)$/i
const HOST = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])$/i
const CHAP_USER = /^[\x21-\x7e]{1,255}$/

/** Why a target cannot be addressed, or null. Checked before any option string is built from it. */
export const targetProblem = (t: BlockTarget): string | null => {
  if (!HOST.test(t.portal)) return `invalid portal address ${JSON.stringify(t.portal)}`
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) return `invalid portal port ${t.port}`
  if (!IQN.test(t.iqn)) return `invalid target name ${JSON.stringify(t.iqn)} (expected iqn.YYYY-MM.authority[:id], eui. or naa.)`
  if (!Number.isInteger(t.lun) || t.lun < 0 || t.lun > 16383) return `invalid LUN ${t.lun}`
  if (t.chap && !CHAP_USER.test(t.chap.user)) return "invalid CHAP user name (printable characters, no spaces)"
  if (t.chap && Redacted.value(t.chap.secret).length === 0) return "empty CHAP secret"
  return null
}

/** qemu option values escape a comma by doubling it. */
const opt = (value: string) => value.replaceAll(",", ",,")

/** What a qemu failure means for whoever reads the deploy's error. */
export const explainQemuFailure = (e: CommandFailed, t: BlockTarget): string => {
  const text = e.stderr || e.reason
  if (/Authentication failure/.test(text)) {
    return t.chap
      ? `CHAP authentication failed: the target refused user ${JSON.stringify(t.chap.user)} with the given secret`
      : "the target requires CHAP authentication and no credentials were given"
  }
  const status = /Status: ([^(\n]+)\(\d+\)/.exec(text)
  if (status) return `the target refused the login: ${status[1]!.trim()}`
  if (/LOGICAL_UNIT_NOT_SUPPORTED/.test(text)) return `the target has no LUN ${t.lun}`
  if (/iscsi_service failed|Connection refused|Failed to connect to|reconnect/.test(text)) return `cannot reach the iSCSI portal ${t.portal}:${t.port}`
  return e.reason.replace(/Could not open '[^']*': /, "")
}

const SECRET_ID = "chap0"
/** Bound for commands that move a few KiB. */
const SMALL_MS = 60_000
/** A copy is killed when qemu-img stops reporting progress this long. */
const COPY_SILENCE_MS = 300_000
const COPY_MAX_MS = 24 * 3600_000
/** qemu-io takes at most this many bytes per request. */
const MAX_REQUEST = 1024 * 1024 * 1024

/**
 * The disk behind `target`, using `dir` (private to one operation) for the secret file and small
 * buffers. The target must have passed `targetProblem`.
 */
export const openIscsiDisk = (target: BlockTarget, dir: string): Effect.Effect<DiskAccess, DiskFault> =>
  Effect.gen(function* () {
    const name = targetName(target)
    const objects: string[] = []
    let login = `file.driver=iscsi,file.transport=tcp,file.portal=${opt(`${target.portal}:${target.port}`)},` +
      `file.target=${opt(target.iqn)},file.lun=${target.lun}`
    if (target.chap) {
      const secretFile = join(dir, "chap-secret")
      yield* Effect.tryPromise({
        try: () => writeFile(secretFile, Redacted.value(target.chap!.secret), { mode: 0o600, flag: "wx" }),
        catch: () => new DiskFault({ reason: "cannot write the CHAP secret file" }),
      })
      objects.push("--object", `secret,id=${SECRET_ID},file=${opt(secretFile)}`)
      login += `,file.user=${opt(target.chap.user)},file.password-secret=${SECRET_ID}`
    }
    const disk = (range?: ByteRange) => `driver=raw,${range ? `offset=${range.offset},size=${range.length},` : ""}${login}`
    const run = (program: string, args: ReadonlyArray<string>, what: string, options: Parameters<typeof runCommand>[2]) =>
      runCommand(program, args, options).pipe(
        Effect.mapError((e) => new DiskFault({ reason: `${what}: ${explainQemuFailure(e, target)}` })),
      )
    let files = 0

    const sizeBytes = run("qemu-img", ["info", "--output=json", ...objects, "--image-opts", disk()], "reading the LUN size", { timeoutMs: SMALL_MS }).pipe(
      Effect.flatMap((out) => {
        const size = (JSON.parse(out.stdout) as { "virtual-size"?: unknown })["virtual-size"]
        return typeof size === "number" && size > 0
          ? Effect.succeed(size)
          : Effect.fail(new DiskFault({ reason: "qemu-img info did not report the LUN size" }))
      }),
    )

    const read = (range: ByteRange) =>
      run("qemu-io", [...objects, "-r", "--image-opts", disk(), "-c", `read -v ${range.offset} ${range.length}`],
        `reading ${range.length} bytes at ${range.offset}`, { timeoutMs: SMALL_MS }).pipe(
        Effect.flatMap((out) => {
          const bytes = parseHexDump(out.stdout, range)
          return bytes ? Effect.succeed(bytes) : Effect.fail(new DiskFault({ reason: `qemu-io returned a short read at ${range.offset}` }))
        }),
      )

    const write = (writes: ReadonlyArray<DiskWrite>) =>
      Effect.gen(function* () {
        if (writes.length === 0) return
        const commands: string[] = []
        let bytes = 0
        for (const w of writes) {
          if ("bytes" in w) {
            const file = join(dir, `write-${files++}.bin`)
            yield* Effect.tryPromise({
              try: () => writeFile(file, w.bytes, { mode: 0o600 }),
              catch: () => new DiskFault({ reason: `cannot stage ${w.bytes.length} bytes in ${dir}` }),
            })
            commands.push("-c", `write -q -s ${file} ${w.offset} ${w.bytes.length}`)
            bytes += w.bytes.length
          } else {
            for (let at = 0; at < w.zeros; at += MAX_REQUEST) {
              commands.push("-c", `write -q -z ${w.offset + at} ${Math.min(MAX_REQUEST, w.zeros - at)}`)
            }
            bytes += w.zeros
          }
        }
        // qemu-io runs the commands in order and exits non-zero if any failed.
        yield* run("qemu-io", [...objects, "--image-opts", disk(), ...commands], `writing ${writes.length} range(s)`, {
          timeoutMs: SMALL_MS + Math.ceil(bytes / (10 * 1024 * 1024)) * 1000,
        })
      })

    const copyImage = (image: SourceImage, offset: number, regionBytes: number, onProgress: (bytesDone: number) => void) =>
      run("qemu-img", [
        "convert", "-n", "-p", "-W", ...objects,
        "--image-opts", `driver=${image.format},file.driver=file,file.filename=${opt(image.path)}`,
        "--target-image-opts", disk({ offset, length: regionBytes }),
      ], `writing the image at ${offset}`, {
        timeoutMs: COPY_MAX_MS,
        silenceTimeoutMs: COPY_SILENCE_MS,
        onStdout: (chunk) => {
          for (const percent of progressPercents(chunk)) onProgress(Math.floor((percent / 100) * image.virtualSizeBytes))
        },
      }).pipe(Effect.asVoid)

    // Skipping zeros (--target-is-zero) leaves untouched what mkfs never wrote; the zeros it did
    // write (journal, wiped signatures) follow as explicit zero writes.
    const copyFilesystem = (fs: BuiltFilesystem, offset: number) =>
      run("qemu-img", [
        "convert", "-n", "--target-is-zero", "-W", ...objects,
        "--image-opts", `driver=raw,file.driver=file,file.filename=${opt(fs.path)}`,
        "--target-image-opts", disk({ offset, length: fs.sizeBytes }),
      ], `writing the filesystem at ${offset}`, { timeoutMs: COPY_MAX_MS }).pipe(
        Effect.andThen(write(fs.zeroRanges.map((r) => ({ offset: offset + r.offset, zeros: r.length })))),
      )

    return { name, sizeBytes, read, write, copyImage, copyFilesystem } satisfies DiskAccess
  })

/** The bytes of a `qemu-io read -v` dump ("0000fe00:  55 aa ...  ascii"), or null if incomplete. */
export const parseHexDump = (dump: string, range: ByteRange): Uint8Array | null => {
  const bytes = new Uint8Array(range.length)
  let seen = 0
  for (const line of dump.split("\n")) {
    const m = /^([0-9a-f]{8,}):((?: [0-9a-f]{2}| {3})+)/.exec(line.replace(/:  /, ": "))
    if (!m) continue
    const at = parseInt(m[1]!, 16) - range.offset
    const values = m[2]!.trim().split(/\s+/).filter((v) => v.length === 2)
    values.forEach((v, i) => {
      if (at + i >= 0 && at + i < range.length) {
        bytes[at + i] = parseInt(v, 16)
        seen++
      }
    })
  }
  return seen === range.length ? bytes : null
}
