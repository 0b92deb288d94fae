// The deploy ramdisk's call-back: POST /v1/nodes/<node>/vendor_passthru/pass_deploy_info with the
// iSCSI target it exports, as the seeds' ramdisk did. Retried while the API cannot be reached;
// an HTTP answer, whatever it says, ends the call (the real ramdisk did not read it either).
export interface PassDeployInfo {
  readonly address: string
  readonly port: string
  readonly iqn: string
  readonly lun: string
  readonly key: string
  readonly error: string | null
  readonly chap_user: string
  readonly chap_secret: string
}

export type CallbackResult =
  | { readonly kind: "answered"; readonly status: number; readonly body: string }
  | { readonly kind: "unreachable"; readonly reason: string }

export const API_VERSION = "1.78"

export const passDeployInfoUrl = (apiUrl: string, nodeUuid: string) =>
  `${apiUrl.replace(/\/+$/, "")}/v1/nodes/${encodeURIComponent(nodeUuid)}/vendor_passthru/pass_deploy_info`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const postPassDeployInfo = async (url: string, body: PassDeployInfo, withinMs: number): Promise<CallbackResult> => {
  const deadline = performance.now() + withinMs
  let lastError = "no attempt"
  for (let attempt = 0; performance.now() < deadline; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-openstack-ironic-api-version": API_VERSION },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(Math.max(100, Math.round(deadline - performance.now()))),
      })
      const text = (await response.text()).slice(0, 500)
      // 503: the service is up but its store is not (yet); a ramdisk keeps trying, as IPA does.
      if (response.status !== 503 || performance.now() + 100 >= deadline) return { kind: "answered", status: response.status, body: text }
      lastError = `503 ${text}`
      await sleep(Math.min(2000, 100 * 2 ** attempt))
    } catch (e) {
      lastError = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message
      await sleep(Math.min(2000, 100 * 2 ** attempt))
    }
  }
  return { kind: "unreachable", reason: `${url}: ${lastError}` }
}
