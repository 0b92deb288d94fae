// Secrets sealed with AES-256-GCM under a master key kept outside the log (a 0600 key file).
// Format: "v1.<iv>.<tag>.<ciphertext>" in base64url. Digests are HMAC-SHA256 under a derived key,
// so a leaked log does not even let an attacker test guesses of a deploy key offline.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { SecretUnreadable, Secrets } from "../../ports/index.ts"

export const makeSecrets = (masterKey: Buffer): Secrets["Service"] => {
  if (masterKey.length !== 32) throw new Error("the master key must be 32 bytes")
  // Key objects made once: building one from raw bytes on every call costs more than the cipher.
  const sealKey = createSecretKey(Buffer.from(hkdfSync("sha256", masterKey, "", "ironledger seal", 32)))
  const digestKey = createSecretKey(Buffer.from(hkdfSync("sha256", masterKey, "", "ironledger digest", 32)))
  return {
    seal: (plain) =>
      Effect.sync(() => {
        const iv = randomBytes(12)
        const cipher = createCipheriv("aes-256-gcm", sealKey, iv)
        const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()])
        return ["v1", iv, cipher.getAuthTag(), body].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".")
      }),
    open: (sealed) =>
      Effect.try({
        try: () => {
          const [version, iv, tag, body] = sealed.split(".")
          if (version !== "v1" || iv === undefined || tag === undefined || body === undefined) throw new Error("not a v1 sealed value")
          const decipher = createDecipheriv("aes-256-gcm", sealKey, Buffer.from(iv, "base64url"))
          decipher.setAuthTag(Buffer.from(tag, "base64url"))
          const plain = Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8")
          return Redacted.make(plain)
        },
        catch: (e) => new SecretUnreadable({ reason: e instanceof Error ? e.message : String(e) }),
      }),
    digest: (plain) => Effect.sync(() => createHmac("sha256", digestKey).update(plain, "utf8").digest("hex")),
  }
}

/** Reads the master key file, creating it (0600) with a fresh random key on first use. */
export const loadOrCreateMasterKey = (path: string): Buffer => {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" })
  }
  chmodSync(path, 0o600)
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64")
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte base64 key`)
  return key
}

export const SecretsFromKeyFile = (path: string) => Layer.sync(Secrets, () => makeSecrets(loadOrCreateMasterKey(path)))
export const SecretsWithKey = (key: Buffer) => Layer.succeed(Secrets, makeSecrets(key))
