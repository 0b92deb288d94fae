// Creates a tgtd CHAP account by speaking tgtadm's management protocol on tgtd's control socket,
// because tgtadm only takes the password on its command line, where every process can read it.
// The request layout is tgt 1.0.x's struct tgtadm_req (Debian 12 ships 1.0.85), checked by the
// tests: a CHAP login with the secret set here must succeed and one with another secret must fail.
import { connect } from "node:net"

const HEADER_BYTES = 120
const MODE_ACCOUNT = 7
const OP_NEW = 0
const TGTADM_USER_EXIST = 14

export const controlSocketPath = (controlPort: number) => `/var/run/tgtd/socket.${controlPort}`

const request = (user: string, secret: string): Buffer => {
  const params = Buffer.from(`user=${user},password=${secret}\0`, "utf8")
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32LE(MODE_ACCOUNT, 0)
  header.writeUInt32LE(OP_NEW, 4)
  header.write("iscsi", 8, "ascii") // lld[64]
  header.writeUInt32LE(HEADER_BYTES + params.length, 72)
  header.writeInt32LE(-1, 76) // tid: none
  header.writeBigUInt64LE(0n, 80) // sid
  header.writeBigUInt64LE(0xffffffffffffffffn, 88) // lun: none
  return Buffer.concat([header, params])
}

/** Adds account `user` with `secret` to the tgtd on `controlPort`. */
export const createChapAccount = (controlPort: number, user: string, secret: string, timeoutMs = 5000): Promise<void> => {
  // tgtd splits parameters on commas and '='.
  if (!/^[\x21-\x7e]+$/.test(user) || /[,=]/.test(user)) return Promise.reject(new Error("invalid CHAP user name"))
  if (secret.length === 0 || /[,\0]/.test(secret)) return Promise.reject(new Error("a CHAP secret must be non-empty, without commas or NUL"))
  return new Promise((resolve, reject) => {
    const socket = connect(controlSocketPath(controlPort))
    let answer = Buffer.alloc(0)
    let settled = false
    const done = (error?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve()
    }
    const timer = setTimeout(() => done(new Error(`tgtd did not answer within ${timeoutMs} ms`)), timeoutMs)
    socket.on("connect", () => socket.write(request(user, secret)))
    socket.on("data", (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk])
      if (answer.length < 8) return
      const err = answer.readUInt32LE(0)
      if (err === 0) done()
      else if (err === TGTADM_USER_EXIST) done(new Error(`CHAP account ${user} already exists`))
      else done(new Error(`tgtd refused the CHAP account (tgtadm error ${err})`))
    })
    socket.on("error", (error) => done(new Error(`tgtd control socket: ${error.message}`)))
    socket.on("close", () => done(new Error("tgtd closed the control socket without an answer")))
  })
}
