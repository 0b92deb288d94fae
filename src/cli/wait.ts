// --wait: poll the node until it settles, showing each state change and, while an image is being
// written, how many bytes are on disk. A failure state or a timeout is an error (non-zero exit).
import { ApiError, enc } from "./client.ts"
import type { Env } from "./command.ts"
import { humanBytes } from "./output.ts"

type Doc = Record<string, unknown>

const failedStates = new Set(["deploy failed", "clean failed", "inspect failed", "adopt failed", "rescue failed", "unrescue failed", "error"])
const pollMs = 500

const progressLine = (p: { bytes_written: number; total_bytes: number }) => {
  const pct = p.total_bytes > 0 ? Math.floor((100 * p.bytes_written) / p.total_bytes) : 0
  return `writing image: ${humanBytes(p.bytes_written)} of ${humanBytes(p.total_bytes)} (${pct}%)`
}

/**
 * Resolves with the node once it rests in `reaches` (or, when null, in any stable state);
 * `timeoutSeconds` 0 waits as long as it takes.
 */
export const waitFor = async (env: Env, node: string, reaches: string | null, timeoutSeconds: number): Promise<Doc> => {
  const started = Date.now()
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`
  let lastState: string | null = null
  let lastBucket = -1
  let progressShown = false
  const endProgress = () => {
    if (progressShown) env.note("")
    progressShown = false
  }
  for (;;) {
    const doc = await env.client().get<Doc>(`/v1/nodes/${enc(node)}`)
    const state = String(doc["provision_state"])
    const target = doc["target_provision_state"]
    if (state !== lastState) {
      endProgress()
      env.note(`[${elapsed()}] ${node}: ${lastState === null ? "" : `${lastState} -> `}${state}`)
      lastState = state
    }
    const progress = doc["deploy_progress"] as { bytes_written: number; total_bytes: number } | null | undefined
    if (progress) {
      const line = progressLine(progress)
      if (env.isTty) {
        process.stderr.write(`\r\x1b[K${line}`)
        progressShown = true
      } else {
        const bucket = progress.total_bytes > 0 ? Math.floor((10 * progress.bytes_written) / progress.total_bytes) : 0
        if (bucket !== lastBucket) env.note(line)
        lastBucket = bucket
      }
    }
    // abort (reaches null) ends in a failed state by design; any other verb must not.
    if (reaches !== null && (failedStates.has(state) || (target === null && state !== reaches))) {
      endProgress()
      const why = doc["last_error"] ? `: ${String(doc["last_error"])}` : ""
      throw new ApiError(0, `${node} ended in "${state}" instead of "${reaches ?? "a stable state"}"${why}`)
    }
    if (target === null && (reaches === null || state === reaches)) {
      endProgress()
      return doc
    }
    if (timeoutSeconds > 0 && Date.now() - started > timeoutSeconds * 1000) {
      endProgress()
      throw new ApiError(0, `timed out after ${timeoutSeconds}s waiting for ${node} to reach "${reaches ?? "a stable state"}" (now "${state}")`)
    }
    await new Promise((r) => setTimeout(r, pollMs))
  }
}
