// ConfigDriveMedia port: builds config drive filesystems and keeps them, sealed, outside the event
// log (the log records only a ConfigDriveRef). Reached through a node's deploy interface, like images.
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"

export class ConfigDriveFailed extends Data.TaggedError("ConfigDriveFailed")<{ readonly reason: string }> {
  override get message() { return this.reason }
}

/** A file of the drive: a relative path (e.g. openstack/latest/meta_data.json) and its content. */
export interface ConfigDriveFile {
  readonly path: string
  readonly content: Uint8Array
}

export interface ConfigDriveMedia {
  /** An ISO9660 filesystem labelled config-2 holding `files` (Rock Ridge and Joliet names). */
  readonly build: (files: ReadonlyArray<ConfigDriveFile>) => Effect.Effect<Uint8Array, ConfigDriveFailed>
  /** Keeps `sealed` (an opaque, already sealed text) under `id`; keeping the same id again is a no-op. */
  readonly save: (id: string, sealed: string) => Effect.Effect<void, ConfigDriveFailed>
  readonly load: (id: string) => Effect.Effect<string, ConfigDriveFailed>
}
