// Builds a config drive as Nova and Ironic do: genisoimage (Debian's mkisofs) writes an ISO9660
// filesystem labelled config-2, with Rock Ridge and Joliet names so openstack/latest/meta_data.json
// keeps its case, dots and length on every reader. Files are staged in a private 0700 directory.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, normalize } from "node:path"
import * as Effect from "effect/Effect"
import { ConfigDriveFailed, type ConfigDriveFile } from "../../ports/config-drives.ts"
import { runCommand } from "../iscsi/process.ts"

export const CONFIG_DRIVE_LABEL = "config-2"

const failed = (reason: string) => new ConfigDriveFailed({ reason })

export const buildConfigDriveIso = (files: ReadonlyArray<ConfigDriveFile>, scratchParent?: string): Effect.Effect<Uint8Array, ConfigDriveFailed> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({
      try: () => mkdtemp(join(scratchParent ?? tmpdir(), "ironledger-configdrive-")),
      catch: (e) => failed(`cannot create a directory for the config drive: ${(e as Error).message}`),
    }),
    (dir) => Effect.gen(function* () {
      const tree = join(dir, "tree")
      for (const f of files) {
        const rel = normalize(f.path)
        if (rel.startsWith("..") || rel.startsWith("/")) return yield* Effect.fail(failed(`config drive path ${JSON.stringify(f.path)} leaves the drive`))
        yield* Effect.tryPromise({
          try: async () => {
            await mkdir(dirname(join(tree, rel)), { recursive: true, mode: 0o700 })
            await writeFile(join(tree, rel), f.content, { mode: 0o600 })
          },
          catch: (e) => failed(`cannot stage the config drive's files: ${(e as Error).message}`),
        })
      }
      const iso = join(dir, "configdrive.iso")
      yield* runCommand("genisoimage", [
        "-o", iso, "-ldots", "-allow-lowercase", "-allow-multidot", "-l", "-publisher", "ironledger",
        "-quiet", "-J", "-r", "-V", CONFIG_DRIVE_LABEL, tree,
      ], { timeoutMs: 60_000 }).pipe(Effect.mapError((e) => failed(`building the config drive: ${e.reason}`)))
      const bytes = yield* Effect.tryPromise({ try: () => readFile(iso), catch: (e) => failed(`reading the built config drive: ${(e as Error).message}`) })
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true })),
  )
