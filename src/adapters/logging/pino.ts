// Structured logs (ADR 0036): JSON lines through pino (time, level, msg, and request_id, actor,
// node where known), human-readable through pino-pretty when the output is a terminal. Effect's
// logger (the conductor's warnings) is routed into the same lines with its annotations as fields.
import type { Writable } from "node:stream"
import * as Cause from "effect/Cause"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import { pino, stdTimeFunctions, type Logger as PinoLogger } from "pino"
import { PinoPretty } from "pino-pretty"

export type { PinoLogger }

/**
 * Keys whose values never reach a line, wherever they sit two levels deep. Lines are built from
 * chosen fields, never from request bodies or headers: this is the second guard, not the first.
 */
const secretKeys = ["password", "ipmi_password", "token", "secret", "deploy_key", "chapSecret", "authorization", "x-auth-token"]
const redactPaths = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`])

export interface LoggerOptions {
  /** Where lines go; default standard error. */
  readonly destination?: Writable & { readonly isTTY?: boolean; readonly fd?: number }
  /** Default: pretty exactly when the destination is a terminal. */
  readonly pretty?: boolean
  readonly level?: "debug" | "info" | "warn" | "error"
}

export const makeLogger = (options: LoggerOptions = {}): PinoLogger => {
  const destination = options.destination ?? process.stderr
  const pretty = options.pretty ?? destination.isTTY === true
  const settings = {
    level: options.level ?? "info",
    base: null,
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: redactPaths, censor: "[redacted]" },
  }
  return pino(settings, pretty ? PinoPretty({ destination, sync: true, colorize: destination.isTTY === true, translateTime: "SYS:HH:MM:ss.l" }) : destination)
}

const levelOf = (label: string): "debug" | "info" | "warn" | "error" | "fatal" => {
  switch (label) {
    case "Fatal": return "fatal"
    case "Error": return "error"
    case "Warn": return "warn"
    case "Info": return "info"
    default: return "debug"
  }
}

const textOf = (part: unknown): string =>
  typeof part === "string" ? part
    : Cause.isCause(part) ? Cause.pretty(part)
    : part instanceof Error ? `${part.name}: ${part.message}`
    : JSON.stringify(part) ?? String(part)

/** Effect's logger writing into `log`: Effect.log* calls become lines with their annotations as fields. */
export const effectLogger = (log: PinoLogger) =>
  Logger.make((o) => {
    const annotations = o.fiber.getRef(References.CurrentLogAnnotations)
    const parts = Array.isArray(o.message) ? o.message : [o.message]
    const cause = o.cause.reasons.length > 0 ? { err: Cause.pretty(o.cause) } : {}
    log[levelOf(o.logLevel)]({ ...annotations, ...cause }, parts.map(textOf).join(" "))
  })

/** Replaces Effect's default logger with `effectLogger(log)` for whatever the layer is provided to. */
export const effectLoggerLayer = (log: PinoLogger) => Logger.layer([effectLogger(log)])
