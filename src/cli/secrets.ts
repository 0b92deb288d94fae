// Secrets (BMC passwords) never travel on argv, where `ps` and shell history would show them:
// they come from a file of KEY=VALUE lines (or a JSON object) named with --secrets-file.
import { readFileSync } from "node:fs"
import { looksSecret } from "../application/secret-fields.ts"
import { UsageError } from "./args.ts"

export const refuseSecretsOnArgv = (pairs: Readonly<Record<string, unknown>>, option: string) => {
  for (const [key, value] of Object.entries(pairs)) {
    if (looksSecret(key, value)) {
      throw new UsageError(`${key} is a secret: put it in a file (KEY=VALUE lines) and pass --secrets-file FILE instead of --${option}`)
    }
  }
}

export const readSecretsFile = (path: string): Record<string, string> => {
  const text = readFileSync(path, "utf8")
  if (text.trimStart().startsWith("{")) {
    const parsed = JSON.parse(text) as unknown
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) ||
      Object.values(parsed).some((v) => typeof v !== "string")) {
      throw new UsageError(`${path}: a JSON secrets file must be an object of strings`)
    }
    return parsed as Record<string, string>
  }
  const out: Record<string, string> = {}
  text.split("\n").forEach((line, i) => {
    const trimmed = line.replace(/\r$/, "")
    if (trimmed.trim() === "" || trimmed.trimStart().startsWith("#")) return
    const eq = trimmed.indexOf("=")
    if (eq <= 0) throw new UsageError(`${path} line ${i + 1}: expected KEY=VALUE`)
    out[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1)
  })
  return out
}
