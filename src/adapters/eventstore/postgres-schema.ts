// The PostgreSQL event store's tables and its append function, created on first use. Several
// processes (conductors on several hosts) may start at once, so the DDL runs under an advisory lock.
// Why positions are built from transaction ids, and why the per-stream lock comes first: ADR 0020.
import type { Pool } from "pg"

/** Bumped when the tables change; a database from a newer version is refused rather than misread. */
export const SCHEMA_VERSION = 1

/** Low bits of a position: the event's ordinal within its transaction. */
export const ORDINAL_BITS = 20
/** Positions must stay exact as JS numbers (< 2^53): transaction ids up to 2^33. */
export const MAX_XID = 2 ** (53 - ORDINAL_BITS)

/** A schema name we can put in SQL unquoted-safe: letters, digits, underscore. */
export const checkSchemaName = (schema: string): string => {
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(schema)) {
    throw new TypeError(`PostgreSQL schema name "${schema}" must be 1-48 lower-case letters, digits or _ (not starting with a digit)`)
  }
  return schema
}

/** The NOTIFY channel appends in `schema` announce themselves on. */
export const channelOf = (schema: string) => `${schema}_events`

// Advisory lock keys: (class, key) pairs, so they cannot collide with single-bigint locks of other
// software in the same database. 0x49524c47 is "IRLG".
const LOCK_CLASS = 0x49524c47
const DDL_LOCK = 1

const ddl = (s: string) => `
  CREATE SCHEMA IF NOT EXISTS ${s};
  CREATE TABLE IF NOT EXISTS ${s}.schema_info (
    version integer NOT NULL
  );
  CREATE TABLE IF NOT EXISTS ${s}.events (
    -- (top-level transaction id << ${ORDINAL_BITS}) + ordinal within the transaction: the global order
    position       bigint  PRIMARY KEY,
    stream_id      text    NOT NULL,
    revision       bigint  NOT NULL,
    type           text    NOT NULL,
    schema_version integer NOT NULL,
    data           json    NOT NULL,  -- json, not jsonb: the text is kept exactly as appended
    meta           json    NOT NULL,
    -- The event's stream hash, chained to the stream's previous event (ADR 0030)
    hash           text    NOT NULL,
    UNIQUE (stream_id, revision)
  );
  CREATE TABLE IF NOT EXISTS ${s}.checkpoints (
    projection text   PRIMARY KEY,
    position   bigint NOT NULL,
    state      text   NOT NULL
  );

  -- A group of appends, each checked on its own and written in the caller's statement (one
  -- transaction, one WAL flush). Append k is p_streams[k] at p_expected[k] (-2 any, -1 no stream,
  -- n the stream's last revision) with the next p_counts[k] events of the flat event arrays; it
  -- sees the group's earlier appends. One row per append: (k, ok, revision, position), ok false
  -- with the stream's actual last revision on a conflict (nothing of that append written).
  -- p_bodies are the events' canonical bodies (eventBody): each event's hash chains its body to
  -- the stream's previous hash, computed here, under the stream's lock, as the SQLite store does.
  CREATE OR REPLACE FUNCTION ${s}.append_group(
    p_streams text[], p_expected bigint[], p_counts integer[],
    p_types text[], p_versions integer[], p_data text[], p_meta text[], p_bodies text[]
  ) RETURNS TABLE (k integer, ok boolean, revision bigint, "position" bigint)
  LANGUAGE plpgsql VOLATILE AS $fn$
  DECLARE
    lock_key integer;
    n        integer;
    offs     integer := 0;
    current  bigint;
    xid      bigint;
    next_pos bigint;
    prev     text;
  BEGIN
    -- Every stream's lock is taken BEFORE this transaction has an id (an advisory lock writes
    -- nothing): any earlier writer of a stream committed with a smaller id, any later one gets a
    -- larger id, so positions follow revisions within a stream. Taken in one order, so two groups
    -- never wait for each other in a circle.
    FOR lock_key IN SELECT DISTINCT hashtext(x) FROM unnest(p_streams) AS x ORDER BY 1 LOOP
      PERFORM pg_advisory_xact_lock(${LOCK_CLASS}, lock_key);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
      n := p_counts[i];
      SELECT max(e.revision) INTO current FROM ${s}.events e WHERE e.stream_id = p_streams[i];
      current := coalesce(current, -1);
      k := i;
      IF p_expected[i] <> -2 AND current <> p_expected[i] THEN
        ok := false; revision := current; "position" := -1;
      ELSIF n = 0 THEN
        ok := true; revision := current; "position" := -1;
      ELSE
        IF next_pos IS NULL THEN
          xid := pg_current_xact_id()::text::bigint;
          IF xid >= ${MAX_XID} THEN
            RAISE EXCEPTION 'transaction id % is past what event positions can hold', xid;
          END IF;
          -- Appends made earlier in the same transaction (a caller's own BEGIN) took the first ordinals.
          SELECT coalesce(max(e.position) + 1, xid << ${ORDINAL_BITS}) INTO next_pos FROM ${s}.events e
            WHERE e.position >= xid << ${ORDINAL_BITS} AND e.position < (xid + 1) << ${ORDINAL_BITS};
        END IF;
        IF next_pos + n > (xid + 1) << ${ORDINAL_BITS} THEN
          RAISE EXCEPTION 'more than % events in one transaction', 1 << ${ORDINAL_BITS};
        END IF;
        SELECT e.hash INTO prev FROM ${s}.events e WHERE e.stream_id = p_streams[i] AND e.revision = current;
        prev := coalesce(prev, '${"0".repeat(64)}');
        FOR j IN 1 .. n LOOP
          prev := encode(sha256(convert_to(
            'ironledger-event-v1' || chr(10) || prev || chr(10) || (current + j)::text || chr(10) || p_bodies[offs + j], 'UTF8')), 'hex');
          INSERT INTO ${s}.events (position, stream_id, revision, type, schema_version, data, meta, hash)
            VALUES (next_pos + j - 1, p_streams[i], current + j, p_types[offs + j], p_versions[offs + j],
                    p_data[offs + j]::json, p_meta[offs + j]::json, prev);
        END LOOP;
        next_pos := next_pos + n;
        ok := true; revision := current + n; "position" := next_pos - 1;
      END IF;
      offs := offs + n;
      RETURN NEXT;
    END LOOP;
  END
  $fn$;

  -- One append: a group of one.
  CREATE OR REPLACE FUNCTION ${s}.append(
    p_stream text, p_expected bigint, p_types text[], p_versions integer[], p_data text[], p_meta text[], p_bodies text[]
  ) RETURNS TABLE (ok boolean, revision bigint, "position" bigint)
  LANGUAGE sql VOLATILE AS $fn$
    SELECT g.ok, g.revision, g."position" FROM ${s}.append_group(
      ARRAY[p_stream], ARRAY[p_expected], ARRAY[coalesce(array_length(p_types, 1), 0)],
      p_types, p_versions, p_data, p_meta, p_bodies) AS g
  $fn$;
`

/** Creates (or checks) the schema; throws when the database holds a newer schema version. */
export const ensureSchema = async (pool: Pool, schema: string): Promise<void> => {
  const client = await pool.connect()
  try {
    await client.query("BEGIN")
    await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_CLASS, DDL_LOCK])
    const exists = await client.query("SELECT to_regclass($1) IS NOT NULL AS present", [`${schema}.schema_info`])
    if (exists.rows[0].present) {
      const found = await client.query(`SELECT max(version) AS version FROM ${schema}.schema_info`)
      const version = Number(found.rows[0].version ?? 0)
      if (version > SCHEMA_VERSION) {
        throw new Error(`schema ${schema} has version ${version}, newer than this program's ${SCHEMA_VERSION}`)
      }
      if (version === SCHEMA_VERSION) {
        await client.query("COMMIT")
        return
      }
    }
    await client.query(ddl(schema))
    await client.query(`DELETE FROM ${schema}.schema_info`)
    await client.query(`INSERT INTO ${schema}.schema_info (version) VALUES ($1)`, [SCHEMA_VERSION])
    await client.query("COMMIT")
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
