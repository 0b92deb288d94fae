// The cleaning ramdisk's step calls, as vendor passthru methods beside pass_deploy_info:
//   clean_step         {key}                                   -> {step, name, args} | {wait: true}
//   clean_step_result  {key, step, summary?, details?, error?} -> 202
// The key (the cleaning's, from the PXE config) is the caller's credential; see ADR 0057.
import * as t from "io-ts"
import { decodeOrThrow, JsonObject, strict } from "../codecs.ts"
import { accepted, ok, run, type RequestContext, type Reply } from "../context.ts"
import { badRequest } from "../errors.ts"

const StepAsk = strict({ key: t.string }, {}, "clean_step")
const StepResult = strict({ key: t.string, step: t.string }, {
  summary: t.string, details: JsonObject, error: t.union([t.string, t.null]),
}, "clean_step_result")

const nextStep = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(StepAsk, await ctx.body(), "clean_step")
  if (body.key === "") throw badRequest("clean_step needs the ramdisk's key.")
  const answer = await run(ctx.service.nextCleanStep(ctx.params["node"]!, body.key))
  return ok(answer.kind === "wait" ? { wait: true } : { step: answer.step, name: answer.name, args: answer.args })
}

const stepResult = async (ctx: RequestContext): Promise<Reply> => {
  const body = decodeOrThrow(StepResult, await ctx.body(), "clean_step_result")
  if (body.key === "") throw badRequest("clean_step_result needs the ramdisk's key.")
  const error = body.error === undefined || body.error === null || body.error === "" ? null : body.error.slice(0, 4000)
  await run(ctx.service.cleanStepResult(ctx.params["node"]!, body.key, {
    step: body.step,
    error,
    summary: (body.summary ?? (error === null ? "done" : "failed")).slice(0, 2000),
    ...(body.details === undefined ? {} : { details: body.details }),
  }))
  return accepted()
}

export const agentStepMethods: Readonly<Record<string, (ctx: RequestContext) => Promise<Reply>>> = {
  clean_step: nextStep,
  clean_step_result: stepResult,
}
