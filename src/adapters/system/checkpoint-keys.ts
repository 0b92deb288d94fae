// Ed25519 keys for the notary's checkpoints (node:crypto). The operator keeps the private key
// outside the store; auditors check with the public key alone.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto"
import { readFileSync } from "node:fs"
import { checkpointStatement } from "../../application/hash-chain.ts"
import type { CheckpointSigner, LogCheckpoint } from "../../application/notary.ts"

const readKey = <K>(path: string, parse: (pem: Buffer) => K, what: string): K => {
  let pem: Buffer
  try {
    pem = readFileSync(path)
  } catch (e) {
    throw new Error(`cannot read the ${what} ${path}: ${(e as Error).message}`)
  }
  try {
    return parse(pem)
  } catch (e) {
    throw new Error(`${path} is not a PEM ${what}: ${(e as Error).message}`)
  }
}

const ed25519 = (key: KeyObject, path: string) => {
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${path} is a ${key.asymmetricKeyType} key; checkpoints are signed with Ed25519`)
  return key
}

/** A short, stable name for a key: the first 16 hex digits of the SHA-256 of its public key (DER). */
export const keyIdOf = (publicKey: KeyObject) =>
  createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 16)

export const loadCheckpointSigner = (path: string): CheckpointSigner => {
  const key = ed25519(readKey(path, createPrivateKey, "Ed25519 private key"), path)
  return {
    keyId: keyIdOf(createPublicKey(key)),
    sign: (statement) => sign(null, Buffer.from(statement, "utf8"), key).toString("base64"),
  }
}

/** Accepts a checkpoint when it carries a valid signature by the key in `path` (public, or private). */
export const loadCheckpointChecker = (path: string): ((checkpoint: LogCheckpoint) => boolean) => {
  const key = ed25519(readKey(path, createPublicKey, "Ed25519 public key"), path)
  return (checkpoint) =>
    typeof checkpoint.signature === "string" &&
    verify(null, Buffer.from(checkpointStatement(checkpoint.position, checkpoint.logHash), "utf8"), key, Buffer.from(checkpoint.signature, "base64"))
}
