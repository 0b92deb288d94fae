// The rescue password is kept only as crypt SHA-512 ("$6$", as Ironic's rescue_password_hash): the
// hash is what the log holds and what the rescue ramdisk writes into its /etc/shadow (ADR 0095).
import { randomBytes } from "node:crypto"
import { encrypt } from "unixcrypt"

const saltAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/** A crypt(3) SHA-512 hash of the password, with a fresh 16-character salt. */
export const hashRescuePassword = (password: string): string => {
  const salt = [...randomBytes(16)].map((b) => saltAlphabet[b & 63]).join("")
  return encrypt(password, `$6$${salt}`)
}

/** What a password must be: a login line's worth of printable text (no newline reaches a shadow file). */
export const rescuePasswordProblem = (password: string): string | null =>
  password.length === 0 ? "The rescue password must not be empty."
    : password.length > 256 ? "The rescue password is longer than 256 characters."
    : /[\x00-\x1f\x7f]/.test(password) ? "The rescue password must not contain control characters."
    : null

/** A crypt SHA-512 hash as this service writes them: nothing a shadow file line could be broken by. */
export const isRescuePasswordHash = (hash: string): boolean => /^\$6\$[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/.test(hash)
