// --wait: poll the node until it settles. On a terminal a live line (stderr) shows the state, how
// long it has lasted, the deadlines (the service's, in a wait state, and --wait's own) and, while
// an image is being written, how many bytes are on disk; otherwise a plain line per state change.
// A failure state or a timeout is an error (non-zero exit).
import { ApiError, enc } from "./client.ts"
import type { Env } from "./command.ts"
import { humanBytes } from "./output.ts"

type Doc = Record<string, unknown>

const failedStates = new Set(["deploy failed", "clean failed", "inspect failed", "adopt failed", "rescue failed", "unrescue failed", "error"])
/** The states in which the service waits for a ramdisk until a deadline (CallbackAwaited). */
const waitStates = new Set(["wait call-back", "clean wait", "inspect wait", "rescue wait"])
const pollMs = 500

export const span = (ms: number): string => {
  const s = Math.max(0, ms) / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19) + "Z"

export interface Progress {
  readonly node: string
  readonly state: string
  readonly now: number
  readonly waitStarted: number
  readonly stateEntered: number
  /** When the service gives up on the ramdisk in this wait state, if it is one. */
  readonly serviceDeadline: number | null
  /** When --wait gives up (null: it waits as long as it takes). */
  readonly waitDeadline: number | null
  readonly written?: { readonly bytes_written: number; readonly total_bytes: number } | null
}

const deadlines = (p: Progress): string =>
  [
    ...(p.serviceDeadline === null ? [] : [`service deadline ${clock(p.serviceDeadline)}, in ${span(p.serviceDeadline - p.now)}`]),
    ...(p.waitDeadline === null ? [] : [`--wait deadline ${clock(p.waitDeadline)}, in ${span(p.waitDeadline - p.now)}`]),
  ].join("; ")

const writtenText = (w: NonNullable<Progress["written"]>) => {
  const pct = w.total_bytes > 0 ? Math.floor((100 * w.bytes_written) / w.total_bytes) : 0
  return `writing image: ${humanBytes(w.bytes_written)} of ${humanBytes(w.total_bytes)} (${pct}%)`
}

/** The live line: the state, for how long, and what is left before each deadline. */
export const liveLine = (p: Progress): string => {
  const d = deadlines(p)
  return `${p.node}: ${p.state} for ${span(p.now - p.stateEntered)}, ${span(p.now - p.waitStarted)} in all` +
    (p.written ? `; ${writtenText(p.written)}` : "") + (d === "" ? "" : `; ${d}`)
}

/** The plain line written when the state changes (not a terminal, or a terminal keeping a record). */
export const changeLine = (p: Progress, previous: string | null): string => {
  const d = deadlines(p)
  return `[${span(p.now - p.waitStarted)}] ${p.node}: ${previous === null ? "" : `${previous} -> `}${p.state}` + (d === "" ? "" : `; ${d}`)
}

/** The deadline the service set on entering its current wait state, from the node's history. */
const serviceDeadlineOf = async (env: Env, node: string, since: number): Promise<number | null> => {
  try {
    const q = new URLSearchParams({ type: "CallbackAwaited", since: new Date(since).toISOString() })
    const page = await env.client().get<{ history: Array<{ data?: { deadline?: unknown } }> }>(`/v1/nodes/${enc(node)}/history/detail?${q}`)
    const last = page.history.at(-1)?.data?.deadline
    return typeof last === "string" && !Number.isNaN(Date.parse(last)) ? Date.parse(last) : null
  } catch {
    return null // Without the deadline the line still shows the state and the time.
  }
}

/**
 * Resolves with the node once it rests in `reaches` (or, when null, in any stable state);
 * `timeoutSeconds` 0 waits as long as it takes.
 */
export const waitFor = async (env: Env, node: string, reaches: string | null, timeoutSeconds: number): Promise<Doc> => {
  const waitStarted = Date.now()
  const waitDeadline = timeoutSeconds > 0 ? waitStarted + timeoutSeconds * 1000 : null
  let lastState: string | null = null
  let stateEntered = waitStarted
  let serviceDeadline: number | null = null
  let lastBucket = -1
  let liveShown = false
  const endLive = () => {
    if (liveShown) process.stderr.write("\r\x1b[K")
    liveShown = false
  }
  for (;;) {
    const doc = await env.client().get<Doc>(`/v1/nodes/${enc(node)}`)
    const now = Date.now()
    const state = String(doc["provision_state"])
    const target = doc["target_provision_state"]
    const written = doc["deploy_progress"] as Progress["written"]
    if (state !== lastState) {
      stateEntered = now
      // The deadline is recorded as the node enters the wait; the history since a minute before we started holds it.
      serviceDeadline = waitStates.has(state) ? await serviceDeadlineOf(env, node, waitStarted - 60_000) : null
      endLive()
      env.note(changeLine({ node, state, now, waitStarted, stateEntered, serviceDeadline, waitDeadline }, lastState))
      lastState = state
    }
    const progress: Progress = { node, state, now, waitStarted, stateEntered, serviceDeadline, waitDeadline, written }
    if (env.isTty) {
      process.stderr.write(`\r\x1b[K${liveLine(progress)}`)
      liveShown = true
    } else if (written) {
      const bucket = written.total_bytes > 0 ? Math.floor((10 * written.bytes_written) / written.total_bytes) : 0
      if (bucket !== lastBucket) env.note(writtenText(written))
      lastBucket = bucket
    }
    // abort (reaches null) ends in a failed state by design; any other verb must not.
    if (reaches !== null && (failedStates.has(state) || (target === null && state !== reaches))) {
      endLive()
      const why = doc["last_error"] ? `: ${String(doc["last_error"])}` : ""
      throw new ApiError(0, `${node} ended in "${state}" instead of "${reaches ?? "a stable state"}"${why}`)
    }
    if (target === null && (reaches === null || state === reaches)) {
      endLive()
      return doc
    }
    if (waitDeadline !== null && now > waitDeadline) {
      endLive()
      throw new ApiError(0, `timed out after ${timeoutSeconds}s waiting for ${node} to reach "${reaches ?? "a stable state"}" (now "${state}" for ${span(now - stateEntered)})`)
    }
    await new Promise((r) => setTimeout(r, pollMs))
  }
}
