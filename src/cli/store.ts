// Which event store a command runs on, from one --store value: `sqlite:FILE` (or a bare FILE) for
// the embedded default, `postgres://...` / `postgresql://...` for PostgreSQL. The only place that
// maps a store address to its layer. See ADR 0022 for the PostgreSQL parameters.
import { resolve } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { PostgresStoreOptions } from "../adapters/eventstore/postgres.ts"
import { makeSqliteEventStore } from "../adapters/eventstore/sqlite.ts"
import type { CheckpointStore, EventStore, StoreUnavailable } from "../ports/index.ts"
import { UsageError } from "./args.ts"

export type StoreAddress =
  | { readonly kind: "sqlite"; readonly path: string }
  | { readonly kind: "postgres"; readonly url: string; readonly options: PostgresStoreOptions; readonly shown: string }

/** Query parameters ironledger reads itself (the rest, e.g. sslmode, are PostgreSQL's own). */
const OWN_PARAMETERS = ["schema", "pool", "statement_timeout", "connect_timeout", "application_name"] as const

const positiveInt = (raw: string, name: string, max: number): number => {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new UsageError(`?${name}= takes a number from 1 to ${max}`)
  return Number(raw)
}

const parsePostgres = (raw: string): StoreAddress => {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError("the PostgreSQL address is not a valid URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
  }
  const options: { -readonly [K in keyof PostgresStoreOptions]: PostgresStoreOptions[K] } = {}
  const param = (name: string) => url.searchParams.get(name) ?? undefined
  const schema = param("schema")
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]{0,47}$/.test(schema)) throw new UsageError("?schema= takes 1-48 lower-case letters, digits or _")
    options.schema = schema
  }
  const pool = param("pool")
  if (pool !== undefined) options.poolSize = positiveInt(pool, "pool", 1000)
  const statementTimeout = param("statement_timeout")
  if (statementTimeout !== undefined) options.statementTimeoutMs = positiveInt(statementTimeout, "statement_timeout", 86_400_000)
  // libpq's connect_timeout is in seconds.
  const connectTimeout = param("connect_timeout")
  if (connectTimeout !== undefined) options.connectTimeoutMs = 1000 * positiveInt(connectTimeout, "connect_timeout", 3600)
  // What may be printed: never the password.
  const shown = new URL(url.href)
  if (shown.password !== "") shown.password = "***"
  for (const name of OWN_PARAMETERS) if (name !== "application_name") url.searchParams.delete(name)
  return { kind: "postgres", url: url.href, options, shown: shown.href }
}

/** Parses a --store value; a relative SQLite path is made absolute (simulated machines are handed it). */
export const parseStoreAddress = (raw: string): StoreAddress => {
  if (/^postgres(ql)?:\/\//.test(raw)) return parsePostgres(raw)
  const path = raw.startsWith("sqlite:") ? raw.slice("sqlite:".length) : raw
  if (path === "") throw new UsageError("--store sqlite:FILE needs a file name")
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) throw new UsageError(`unknown store ${raw.split(":")[0]}: (use sqlite:FILE or postgres://...)`)
  return { kind: "sqlite", path: resolve(path) }
}

// The PostgreSQL adapter (and pg) loads only when chosen: the SQLite default does not carry it (ADR 0157).
export const storeLayer = (address: StoreAddress): Layer.Layer<EventStore | CheckpointStore, StoreUnavailable> =>
  address.kind === "sqlite" ? makeSqliteEventStore(address.path) : Layer.unwrap(Effect.promise(async () =>
    (await import("../adapters/eventstore/postgres.ts")).makePostgresEventStore(address.url, address.options)))

/** For messages: the file, or the URL with its password masked. */
export const describeStore = (address: StoreAddress): string =>
  address.kind === "sqlite" ? address.path : address.shown
