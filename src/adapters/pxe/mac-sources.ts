// One DHCP server's host list fed by several sources (the PXE tree's MAC links, the nodes whose
// virtual-media ISO is out): each source says its own MACs, whole or as a change; the server is
// given their union, a change as a change (a MAC goes only when no source holds it).
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import type { Mac } from "../../domain/values.ts"
import type { Dnsmasq } from "./dnsmasq.ts"

export type MacSource = Pick<Dnsmasq, "setBootMacs" | "changeBootMacs">

export const macSources = (server: MacSource) => {
  const held = new Map<string, Set<Mac>>()
  const one = Semaphore.makeUnsafe(1)
  const heldElsewhere = (name: string, mac: Mac) => [...held].some(([other, macs]) => other !== name && macs.has(mac))
  return (name: string): MacSource => ({
    setBootMacs: (macs) => one.withPermit(Effect.suspend(() => {
      held.set(name, new Set(macs))
      return server.setBootMacs([...new Set([...held.values()].flatMap((s) => [...s]))])
    })),
    changeBootMacs: ({ add, remove }) => one.withPermit(Effect.suspend(() => {
      const mine = held.get(name) ?? held.set(name, new Set()).get(name)!
      for (const mac of add) mine.add(mac)
      for (const mac of remove) mine.delete(mac)
      return server.changeBootMacs({ add, remove: remove.filter((mac) => !heldElsewhere(name, mac)) })
    })),
  })
}
