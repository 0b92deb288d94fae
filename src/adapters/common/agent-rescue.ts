// The "agent" rescue interface (Ironic's name): the deploy ramdisk boots in rescue mode, fetches the
// rescue password's hash with its key, opens a login on the serial console and reports ready (ADR 0095).
import { declared } from "../../application/hardware/interfaces.ts"

export const agentRescue = declared("rescue", "agent", "The deploy ramdisk in rescue mode: a root login on the serial console with the rescue password.")
