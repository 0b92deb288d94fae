// The SQLite store's projection checkpoints (ADR 0165). A checkpoint's state (28 MB for the fleet at
// 100,000 nodes) is written to a file of its own beside the log, on libuv's thread pool, and the
// log's file only keeps a small row naming it. Written into SQLite, the same state held the event
// loop for 0.3-0.6 s per save (the insert, its fsync, then the WAL checkpoint copying it again),
// stalling every request and every conductor step of the moment.
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises"
import { join } from "node:path"
import type { StatementSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { CheckpointStore, CheckpointToSave } from "../../ports/checkpoint-store.ts"
import { unavailable } from "./sqlite-append.ts"

/** A row whose state is this prefix and a file name holds its state in that file. */
const inFile = "file:"

/** Where the checkpoint files of the log at `logPath` live. */
export const checkpointDirectory = (logPath: string): string => `${logPath}.checkpoints`

/**
 * Encoded and written a megabyte at a time: one Buffer.from of the whole 28 MB text holds the event
 * loop for about 100 ms (a fresh large allocation), a megabyte's slice for a fraction of one.
 */
const chunk = 1 << 20
/** Where the chunk starting at `at` ends: never between the two halves of a surrogate pair. */
const chunkEnd = (text: string, at: number): number => {
  const end = Math.min(text.length, at + chunk)
  const last = text.charCodeAt(end - 1)
  return end < text.length && last >= 0xd800 && last <= 0xdbff ? end + 1 : end
}

/**
 * The text given whole or in pieces, as strings of about a megabyte: pieces are gathered up to one,
 * a longer string is cut. Pieces come flat from their encoder; the whole text joined into one string
 * (then flattened by the first read of a character) held the loop for 0.3 s at 180,000 nodes (ADR 0191).
 */
function* megabytes(state: CheckpointToSave["state"]): Generator<string> {
  let batch: Array<string> = []
  let size = 0
  for (const piece of typeof state === "string" ? [state] : state) {
    if (piece.length < chunk) {
      batch.push(piece)
      size += piece.length
      if (size >= chunk) { yield batch.join(""); batch = []; size = 0 }
      continue
    }
    if (batch.length > 0) { yield batch.join(""); batch = []; size = 0 }
    for (let at = 0; at < piece.length;) {
      const end = chunkEnd(piece, at)
      yield piece.slice(at, end)
      at = end
    }
  }
  if (batch.length > 0) yield batch.join("")
}

/** Written whole, flushed, then renamed into place: a reader never sees a partial file. */
const writeDurably = async (dir: string, name: string, state: CheckpointToSave["state"]): Promise<void> => {
  await mkdir(dir, { recursive: true })
  const temporary = join(dir, `${name}.${process.pid}.tmp`)
  try {
    const file = await open(temporary, "w")
    try {
      for (const text of megabytes(state)) await file.write(Buffer.from(text, "utf8"))
      await file.datasync()
    } finally {
      await file.close()
    }
    await rename(temporary, join(dir, name))
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
  // The rename itself survives a power loss only once the directory is flushed too.
  const directory = await open(dir, "r")
  try {
    await directory.sync()
  } finally {
    await directory.close()
  }
}

/** A temporary file this old was left by a process that died while writing it. */
const abandonedAfterMs = 10 * 60_000

/**
 * Files of `projection` other than `keep`: checkpoints superseded by a later save, and temporary
 * files abandoned. Another process saving at the same moment may lose its fresh file here; its row
 * then names a missing file, and the next start folds the log instead (slower, never wrong).
 */
const removeSuperseded = async (dir: string, projection: string, keep: string): Promise<void> => {
  const prefix = `${encodeURIComponent(projection)}.`
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix) || name === keep) continue
    const path = join(dir, name)
    if (name.endsWith(".json")) await rm(path, { force: true })
    else if (name.endsWith(".tmp")) {
      // Renamed into place by its writer meanwhile: nothing to remove.
      const modified = (await stat(path).catch(() => null))?.mtimeMs
      if (modified !== undefined && Date.now() - modified > abandonedAfterMs) await rm(path, { force: true })
    }
  }
}

export const makeSqliteCheckpoints = (
  logPath: string,
  statements: { readonly select: StatementSync; readonly upsert: StatementSync },
): CheckpointStore["Service"] => {
  const dir = checkpointDirectory(logPath)
  return {
    load: (projection) =>
      Effect.try({
        try: () => {
          const row = statements.select.get(projection) as unknown as readonly [number, string] | undefined
          if (row === undefined) return Option.none()
          const [position, state] = row
          // A row from before checkpoint files holds the state itself.
          if (!state.startsWith(inFile)) return Option.some({ position, state })
          try {
            return Option.some({ position, state: readFileSync(join(dir, state.slice(inFile.length)), "utf8") })
          } catch (error) {
            // Lost with a copied log file, or to a concurrent save: the projection folds the log instead.
            if ((error as NodeJS.ErrnoException).code === "ENOENT") return Option.none()
            throw error
          }
        },
        catch: unavailable(`load checkpoint ${projection}`),
      }),
    save: (projection, checkpoint) =>
      Effect.gen(function* () {
        const name = `${encodeURIComponent(projection)}.${checkpoint.position}.${randomUUID().slice(0, 8)}.json`
        yield* Effect.tryPromise({
          try: () => writeDurably(dir, name, checkpoint.state),
          catch: unavailable(`save checkpoint ${projection}`),
        })
        yield* Effect.try({
          try: () => { statements.upsert.run(projection, checkpoint.position, `${inFile}${name}`) },
          catch: unavailable(`save checkpoint ${projection}`),
        })
        // Best effort: a file left behind is removed by the next save.
        yield* Effect.promise(() => removeSuperseded(dir, projection, name).catch(() => undefined))
      }),
  }
}
