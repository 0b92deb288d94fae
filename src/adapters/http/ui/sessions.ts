// Browser sign-in for the web view: a token typed once into the sign-in form is exchanged for a
// random session id in an HttpOnly, SameSite=Strict cookie, so the token never sits in a URL, in
// the page, or in script reach. Sessions live in the service's memory: a restart signs everyone out.
import { randomBytes } from "node:crypto"

export const sessionCookie = "ironledger_session"
const lifetimeMs = 12 * 60 * 60 * 1000

export interface Session {
  /** The token the user signed in with: every request re-checks it, so removing it from the token file ends the session. */
  readonly token: string
  readonly expires: number
}

export const cookiesOf = (header: string | undefined): Map<string, string> => {
  const out = new Map<string, string>()
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=")
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  return out
}

export class Sessions {
  private readonly byId = new Map<string, Session>()
  private readonly now: () => number
  constructor(now: () => number = Date.now) { this.now = now }

  open(token: string): string {
    this.sweep()
    const id = randomBytes(32).toString("base64url")
    this.byId.set(id, { token, expires: this.now() + lifetimeMs })
    return id
  }

  /** The token behind the request's session cookie, if it has a live session. */
  tokenOf(cookieHeader: string | undefined): string | undefined {
    const id = cookiesOf(cookieHeader).get(sessionCookie)
    if (id === undefined) return undefined
    const s = this.byId.get(id)
    if (s === undefined) return undefined
    if (s.expires <= this.now()) { this.byId.delete(id); return undefined }
    return s.token
  }

  close(cookieHeader: string | undefined): void {
    const id = cookiesOf(cookieHeader).get(sessionCookie)
    if (id !== undefined) this.byId.delete(id)
  }

  private sweep() {
    const now = this.now()
    for (const [id, s] of this.byId) if (s.expires <= now) this.byId.delete(id)
  }
}

export const setCookie = (id: string) =>
  `${sessionCookie}=${id}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=${lifetimeMs / 1000}`
export const clearCookie = `${sessionCookie}=; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=0`
