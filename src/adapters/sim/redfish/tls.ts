// A self-signed certificate for the emulator's HTTPS, made with openssl for the address it listens
// on: clients verify it by being given it as their CA, as they would a BMC's own CA.
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { isIP } from "node:net"

export interface TlsIdentity { readonly cert: string; readonly key: string }

export const selfSignedCertificate = (host: string): Promise<TlsIdentity> =>
  new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), "redfish-tls-"))
    const san = isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`
    execFile("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
      "-subj", `/CN=${host}`, "-addext", `subjectAltName=${san}`, "-addext", "basicConstraints=critical,CA:TRUE",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    ], { timeout: 20_000 }, (error, _out, stderr) => {
      try {
        if (error !== null) { reject(new Error(`openssl could not make a certificate: ${stderr.trim() || error.message}`)); return }
        resolve({ cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") })
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  })
