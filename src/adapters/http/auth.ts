// Who is calling. `noauth` for local use; `token` checks X-Auth-Token against configured tokens,
// each with a role: admin may do anything, reader only GET. Tokens come from a file, never argv.
import { readFileSync } from "node:fs"
import { timingSafeEqual, createHash } from "node:crypto"
import type { Access } from "./context.ts"
import { HttpError } from "./errors.ts"

export type Role = "admin" | "reader"

export interface TokenEntry {
  readonly user: string
  readonly role: Role
  readonly token: string
}

export type AuthConfig =
  | { readonly mode: "noauth" }
  | { readonly mode: "token"; readonly tokens: ReadonlyArray<TokenEntry> }

export const noauth: AuthConfig = { mode: "noauth" }

/** Lines of `user role token`; blank lines and # comments skipped. */
export const parseTokenFile = (text: string): ReadonlyArray<TokenEntry> =>
  text.split("\n").flatMap((line, i) => {
    const trimmed = line.trim()
    if (trimmed === "" || trimmed.startsWith("#")) return []
    const [user, role, token, ...rest] = trimmed.split(/\s+/)
    if (user === undefined || token === undefined || rest.length > 0 || (role !== "admin" && role !== "reader")) {
      throw new Error(`token file line ${i + 1}: expected "user admin|reader token"`)
    }
    if (token.length < 16) throw new Error(`token file line ${i + 1}: tokens must be at least 16 characters`)
    return [{ user, role, token }]
  })

export const loadTokenFile = (path: string): AuthConfig => ({ mode: "token", tokens: parseTokenFile(readFileSync(path, "utf8")) })

const digest = (s: string) => createHash("sha256").update(s).digest()

/** Compares digests so the time taken does not reveal how much of a token matched. */
const findToken = (tokens: ReadonlyArray<TokenEntry>, presented: string): TokenEntry | undefined => {
  const d = digest(presented)
  return tokens.find((t) => timingSafeEqual(digest(t.token), d))
}

/** The actor recorded on events, or an HTTP error when the caller may not do this. */
export const authorize = (config: AuthConfig, access: Access, method: string, token: string | undefined): string => {
  if (access === "ramdisk") return "ramdisk"
  if (config.mode === "noauth") return "user:noauth"
  if (access === "public") return "anonymous"
  if (token === undefined || token === "") throw new HttpError(401, "Authentication required: send X-Auth-Token.", "routing")
  const entry = findToken(config.tokens, token)
  if (entry === undefined) throw new HttpError(401, "The token is not valid.", "routing")
  if (entry.role === "reader" && method !== "GET") {
    throw new HttpError(403, `Access was denied to this resource: ${entry.user} has the reader role.`)
  }
  return `user:${entry.user}`
}
