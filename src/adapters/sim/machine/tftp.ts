// The PXE firmware's TFTP client: curl speaks TFTP, so files come from the real server the
// conductor's BootConfigurator feeds.
import { execFile } from "node:child_process"

export type TftpResult =
  | { readonly kind: "ok"; readonly bytes: Buffer }
  | { readonly kind: "missing" }
  | { readonly kind: "error"; readonly reason: string }

// Only characters a TFTP path needs: nothing curl would read as URL syntax.
const SAFE_PATH = /^[A-Za-z0-9._\/-]+$/
const MAX_FILE = 512 * 1024 * 1024
/** curl: "TFTP: File Not Found". */
const CURL_TFTP_NOT_FOUND = 68

export interface TftpOptions {
  readonly server: string
  readonly timeoutMs: number
  /** Keep the bytes (the PXE config) or only check the file arrives whole (kernels, ramdisks). */
  readonly keep: boolean
}

export const tftpGet = (path: string, options: TftpOptions): Promise<TftpResult> => {
  if (!SAFE_PATH.test(path) || path.includes("..")) {
    return Promise.resolve({ kind: "error", reason: `refusing to fetch the odd TFTP path ${JSON.stringify(path)}` })
  }
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / 1000))
  // A large block size: deploy ramdisks are tens of MiB and loopback takes 64 KiB datagrams.
  const argv = ["-s", "-S", "--max-time", String(seconds), "--tftp-blksize", "65464", `tftp://${options.server}/${path}`]
  if (!options.keep) argv.push("-o", "/dev/null", "-w", "%{size_download}")
  return new Promise((resolve) => {
    execFile("curl", argv, { encoding: "buffer", maxBuffer: MAX_FILE, timeout: options.timeoutMs + 2000 }, (error, stdout, stderr) => {
      if (error === null) return resolve({ kind: "ok", bytes: stdout })
      if ((error as { code?: unknown }).code === CURL_TFTP_NOT_FOUND) return resolve({ kind: "missing" })
      const said = stderr.toString("utf8").trim() || error.message
      resolve({ kind: "error", reason: `tftp://${options.server}/${path}: ${said}` })
    })
  })
}
