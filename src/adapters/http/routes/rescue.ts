// The rescue ramdisk's vendor passthru methods (ADR 0095), with the rescue's ramdisk key:
//   POST /v1/nodes/{id}/vendor_passthru/rescue_password {key} -> {rescue_password_hash}
//   POST /v1/nodes/{id}/vendor_passthru/rescue_ready {key, address?, error?} -> 202
// The password itself never leaves the API's request: only its crypt SHA-512 hash is stored and served.
import * as t from "io-ts"
import { decodeOrThrow, strict } from "../codecs.ts"
import { accepted, ok, run, type RequestContext, type Reply } from "../context.ts"
import { badRequest } from "../errors.ts"

const PasswordAsk = strict({ key: t.string }, {}, "rescue_password")
const ReadyReport = strict({ key: t.string }, { address: t.string, error: t.union([t.string, t.null]) }, "rescue_ready")

const rescuePassword = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(PasswordAsk, await ctx.body(), "rescue_password")
  if (body.key === "") throw badRequest("rescue_password needs the ramdisk's key.")
  const { hash } = await run(ctx.service.rescuePassword(ctx.params["node"]!, body.key))
  return ok({ rescue_password_hash: hash })
}

const rescueReady = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(ReadyReport, await ctx.body(), "rescue_ready")
  if (body.key === "") throw badRequest("rescue_ready needs the ramdisk's key.")
  if (body.address !== undefined && body.address.length > 64) throw badRequest("address is longer than 64 characters.")
  const error = body.error === undefined || body.error === null ? null : body.error.slice(0, 3000)
  await run(ctx.service.rescueReady(ctx.params["node"]!, body.key, { ...(body.address === undefined ? {} : { address: body.address }), error }))
  return accepted()
}

export const rescueMethods: Record<string, (ctx: RequestContext) => Promise<Reply>> = { rescue_password: rescuePassword, rescue_ready: rescueReady }

export const rescueMethodDocs = {
  rescue_password: {
    http_methods: ["POST"], async: false, attach: false, require_exclusive_lock: false,
    description: "The rescue ramdisk fetches the rescue password's crypt hash: {key} -> {rescue_password_hash} (ADR 0095).",
  },
  rescue_ready: {
    http_methods: ["POST"], async: true, attach: false, require_exclusive_lock: true,
    description: "The rescue ramdisk reports its console login up: {key, address?, error?} (ADR 0095).",
  },
}
