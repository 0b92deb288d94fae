// The sim hardware type's serial console: a simulated UART on which the machine shows a login
// prompt and echoes what is typed, so console clients can be exercised without a BMC.
import { Effect } from "effect"
import type { ConsoleInterface, SerialLine } from "../../application/hardware/console.ts"

export const simSerialLine = (hostname: string): SerialLine => {
  const listeners: Array<(chunk: Buffer) => void> = []
  const ends: Array<(reason: string) => void> = []
  let closed = false
  let typed = ""
  const emit = (s: string) => { if (!closed) for (const l of listeners) l(Buffer.from(s)) }
  const prompt = `${hostname} login: `
  // The banner comes after the first listener subscribes, as a UART's output would reach a client.
  setTimeout(() => emit(`\r\nironledger simulated serial console (ttyS0, 115200 8N1)\r\n\r\n${prompt}`), 0)
  return {
    onData: (l) => { listeners.push(l) },
    onEnd: (l) => { ends.push(l) },
    write: (chunk) => {
      for (const ch of chunk.toString("latin1")) {
        if (ch === "\r" || ch === "\n") {
          emit(`\r\n${typed === "" ? "" : "Login incorrect\r\n\r\n"}${prompt}`)
          typed = ""
        } else {
          typed += ch
          emit(ch)
        }
      }
    },
    close: () => {
      if (closed) return
      closed = true
      for (const l of ends) l("closed")
    },
  }
}

export const simConsole: ConsoleInterface = {
  slot: "console", name: "sim", description: "The simulated machine's serial port (a login prompt that echoes).", properties: [],
  open: (n) => Effect.sync(() => simSerialLine(n.name ?? n.nodeId.slice(0, 8))),
}
