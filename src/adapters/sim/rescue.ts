// The simulated rescue ramdisk (ADR 0095), over HTTP as the real agent: it fetches the rescue
// password's hash with its key, "sets" it (kept for the simulated console's login), and reports
// its login up. A hash that is not crypt SHA-512 is reported as the error instead.
import { isRescuePasswordHash } from "../../application/rescue/password.ts"

const post = async (url: string, body: unknown) => {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-openstack-ironic-api-version": "1.78" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
  return { status: r.status, text: await r.text() }
}

/** True when the service took the report (the node was waiting for this rescue ramdisk). */
export const simRescueOverHttp = async (apiUrl: string, nodeId: string, key: string, setPassword: (hash: string) => void): Promise<boolean> => {
  const base = `${apiUrl.replace(/\/+$/, "")}/v1/nodes/${encodeURIComponent(nodeId)}/vendor_passthru`
  try {
    const asked = await post(`${base}/rescue_password`, { key })
    if (asked.status !== 200) return false
    const hash = (JSON.parse(asked.text) as { rescue_password_hash?: unknown }).rescue_password_hash
    const ok = typeof hash === "string" && isRescuePasswordHash(hash)
    if (ok) setPassword(hash)
    const reported = await post(`${base}/rescue_ready`, ok ? { key, address: "127.0.0.1" } : { key, error: "the rescue password hash is not crypt SHA-512" })
    return reported.status === 202
  } catch {
    return false
  }
}
