// One DHCP server's host list fed by several sources (the PXE tree's MAC links, the nodes whose
// virtual-media ISO is out): each source says its own MACs, the server is given their union.
import { Effect, Semaphore } from "effect"
import type { Mac } from "../../domain/values.ts"
import type { Dnsmasq } from "./dnsmasq.ts"

export type MacSource = Pick<Dnsmasq, "setBootMacs">

export const macSources = (server: MacSource) => {
  const held = new Map<string, ReadonlyArray<Mac>>()
  const one = Semaphore.makeUnsafe(1)
  return (name: string): MacSource => ({
    setBootMacs: (macs) => one.withPermit(Effect.suspend(() => {
      held.set(name, macs)
      return server.setBootMacs([...new Set([...held.values()].flat())])
    })),
  })
}
