// A test's own boot network: a namespace holding bridge br0 with the boot host's addresses, and
// ports on it (veth pairs) whose far ends are the test's clients.
import { ip } from "../../src/adapters/vm/netns.ts"

/** `addresses`: each an address with its prefix, then any flags `ip addr add` takes after the device. */
export const bridgeNamespace = async (ns: string, addresses: ReadonlyArray<readonly [string, ...Array<string>]>) => {
  await ip(["netns", "add", ns])
  const inNs = (args: ReadonlyArray<string>) => ip(["-n", ns, ...args])
  await inNs(["link", "add", "br0", "type", "bridge", "forward_delay", "0"])
  for (const [address, ...flags] of addresses) await inNs(["addr", "add", address, "dev", "br0", ...flags])
  await inNs(["link", "set", "br0", "up"])
  return {
    inNs,
    /** Port `side` on the bridge, up; its peer `end` is left down for the test to place and raise. */
    port: async (side: string, end: string) => {
      await inNs(["link", "add", side, "type", "veth", "peer", "name", end])
      await inNs(["link", "set", side, "master", "br0"])
      await inNs(["link", "set", side, "up"])
    },
  }
}
