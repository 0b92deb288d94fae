// The service's side of one deploy, run inside the VM rack's namespace (where the service would
// run): receives pass_deploy_info over HTTP, writes the image over iSCSI with CHAP using the real
// block writer, and on "release" from stdin tells the ramdisk "done" on TCP 10000.
// Usage: node vm-deploy-peer.ts '{"address","port","image","scratch","layout"}' (layout: a
// PartitionLayout, or null for a whole-disk image). One JSON line per event on stdout.
import { createServer } from "node:http"
import { createInterface } from "node:readline"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import { iscsiBlockWriter } from "../../src/adapters/iscsi/index.ts"
import { releaseOverTcp } from "../../src/adapters/ramdisk/tcp.ts"

import type { PartitionLayout } from "../../src/domain/partition.ts"

const config = JSON.parse(process.argv[2]!) as {
  readonly address: string; readonly port: number; readonly image: string; readonly scratch: string; readonly layout: PartitionLayout | null
}
const say = (event: Record<string, unknown>) => process.stdout.write(JSON.stringify(event) + "\n")
const lines = createInterface({ input: process.stdin })
const nextLine = () => new Promise<string>((resolve) => lines.once("line", resolve))

const deploy = async (body: Record<string, string | null>) => {
  if (body["error"] !== null && body["error"] !== undefined) { say({ kind: "ramdisk-error", body }); return }
  const { chap_secret: secret, ...shown } = body
  say({ kind: "callback", body: { ...shown, chap_secret: secret === undefined ? "absent" : "present" } })
  const result = await Effect.runPromiseExit(iscsiBlockWriter({ scratchDir: config.scratch }).writeImage({
    target: {
      portal: body["address"]!, port: Number(body["port"]), iqn: body["iqn"]!, lun: Number(body["lun"]),
      chap: { user: body["chap_user"]!, secret: Redacted.make(secret!) },
    },
    layout: config.layout, imagePath: config.image, preserveEphemeral: false,
  }))
  if (Exit.isFailure(result)) { say({ kind: "write-failed", reason: Cause.pretty(result.cause) }); return }
  say({ kind: "written", bytes: result.value.bytesWritten, ms: result.value.durationMs, rootUuid: result.value.rootUuid })
  await nextLine()
  const released = await Effect.runPromiseExit(releaseOverTcp(body["address"]!, 10000, 30_000))
  say(Exit.isFailure(released) ? { kind: "release-failed", reason: Cause.pretty(released.cause) } : { kind: "released" })
}

const server = createServer((req, res) => {
  let text = ""
  req.on("data", (c) => { text += c })
  req.on("end", () => {
    const ok = req.method === "POST" && /\/v1\/nodes\/[^/]+\/vendor_passthru\/pass_deploy_info$/.test(req.url ?? "")
    res.writeHead(ok ? 202 : 404).end()
    // Every boot offers its inventory first (ADR 0058); a node that is not inspecting refuses it.
    if (req.method === "POST" && /\/vendor_passthru\/inventory$/.test(req.url ?? "")) return say({ kind: "inventory-refused" })
    if (!ok) return say({ kind: "unexpected", method: req.method, url: req.url })
    say({ kind: "request", url: req.url, apiVersion: req.headers["x-openstack-ironic-api-version"] ?? null })
    deploy(JSON.parse(text)).then(() => { server.close(); lines.close() }, (e: Error) => { say({ kind: "crashed", reason: e.message }); process.exit(1) })
  })
})
server.listen(config.port, config.address, () => say({ kind: "listening" }))
