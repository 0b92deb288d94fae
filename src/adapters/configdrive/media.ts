// ConfigDriveMedia over a directory (services: <stateDir>/config-drives, shared by the API that
// accepts a drive and the conductor that writes it) or memory (simulated racks without disk files).
// What is kept is already sealed by the application; files are 0600 in a 0700 directory anyway.
import { randomUUID } from "node:crypto"
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { ConfigDriveFailed, type ConfigDriveMedia } from "../../ports/config-drives.ts"
import { buildConfigDriveIso } from "./iso.ts"

const SHA256_HEX = /^[0-9a-f]{64}$/
const failed = (reason: string) => new ConfigDriveFailed({ reason })
const checkId = (id: string) => (SHA256_HEX.test(id) ? Effect.void : Effect.fail(failed(`config drive id ${JSON.stringify(id.slice(0, 80))} is not a sha256`)))

export const fsConfigDriveMedia = (dir: string): ConfigDriveMedia => {
  const pathOf = (id: string) => join(dir, `${id}.sealed`)
  return {
    build: (files) => buildConfigDriveIso(files),
    save: (id, sealed) => Effect.flatMap(checkId(id), () => Effect.tryPromise({
      try: async () => {
        await mkdir(dir, { recursive: true, mode: 0o700 })
        if (await stat(pathOf(id)).then(() => true, () => false)) return
        const tmp = join(dir, `.${randomUUID()}.tmp`)
        await writeFile(tmp, sealed, { mode: 0o600 })
        await rename(tmp, pathOf(id))
      },
      catch: (e) => failed(`cannot keep the config drive: ${(e as Error).message}`),
    })),
    load: (id) => Effect.flatMap(checkId(id), () => Effect.tryPromise({
      try: () => readFile(pathOf(id), "utf8"),
      catch: (e) => failed((e as NodeJS.ErrnoException).code === "ENOENT" ? `config drive ${id.slice(0, 12)} is not kept here` : `cannot read the config drive: ${(e as Error).message}`),
    })),
  }
}

export const memoryConfigDriveMedia = (): ConfigDriveMedia => {
  const kept = new Map<string, string>()
  return {
    build: (files) => buildConfigDriveIso(files),
    save: (id, sealed) => Effect.flatMap(checkId(id), () => Effect.sync(() => { if (!kept.has(id)) kept.set(id, sealed) })),
    load: (id) => Effect.flatMap(checkId(id), () => {
      const sealed = kept.get(id)
      return sealed === undefined ? Effect.fail(failed(`config drive ${id.slice(0, 12)} is not kept here`)) : Effect.succeed(sealed)
    }),
  }
}
