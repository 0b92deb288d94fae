// Errors name a node as the user typed it: the API speaks of nodes by UUID ("... on node
// "1be2..." while it is in state ..."), so a UUID in an error that belongs to a node the user
// named on the command line is put back as that name.
import type { Parsed } from "./args.ts"
import { enc } from "./client.ts"
import type { Env } from "./command.ts"

const uuidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** `message` with the UUIDs of the nodes named in `args` (positionals, --node) replaced by those names. */
export const nameNodesAsTyped = async (message: string, args: Parsed, env: Env): Promise<string> => {
  const uuids = new Set((message.match(uuidPattern) ?? []).map((u) => u.toLowerCase()))
  // Offline commands (--db) already speak in the user's terms; a message without a UUID needs nothing.
  if (uuids.size === 0 || args.strings["db"] !== undefined) return message
  const typed = [...args.positionals, ...(args.strings["node"] === undefined ? [] : [args.strings["node"]])]
    .filter((ref) => ref !== "" && !isUuid.test(ref))
  let said = message
  for (const ref of typed.slice(0, 4)) {
    try {
      const node = await env.client().get<{ uuid?: string }>(`/v1/nodes/${enc(ref)}?fields=uuid`)
      const uuid = node.uuid?.toLowerCase()
      if (uuid !== undefined && uuids.has(uuid)) said = said.replace(new RegExp(uuid, "gi"), ref)
    } catch {
      // Not a node (a MAC, a verb) or the API is gone: the message stays as the API said it.
    }
  }
  return said
}
