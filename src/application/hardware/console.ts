// The console slot's working interfaces: they open the node's serial line (IPMI SOL, a simulated
// UART). A declared-only console interface ("no-console") has no `open`.
import type { NodeState } from "../../domain/index.ts"
import type { Act, InterfaceBase } from "./interfaces.ts"

/** A node's serial console as a byte stream: what the machine prints, and where keystrokes go. */
export interface SerialLine {
  readonly onData: (listener: (chunk: Buffer) => void) => void
  /** Called once, when the line ends (the BMC dropped the session, the machine went away, close()). */
  readonly onEnd: (listener: (reason: string) => void) => void
  readonly write: (chunk: Buffer) => void
  readonly close: () => void
}

export interface ConsoleInterface extends InterfaceBase<"console"> {
  readonly open: (node: NodeState) => Act<SerialLine>
}

export const opensConsole = (i: InterfaceBase<"console">): i is ConsoleInterface =>
  typeof (i as Partial<ConsoleInterface>).open === "function"
