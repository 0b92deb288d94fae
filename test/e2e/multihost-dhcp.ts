// What the multi-host test reads of each conductor host's DHCP (ADR 0072): the MACs its dnsmasq
// answers (its hosts file), what its log says it did with a MAC, and who held each node last.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { StoredEvent } from "../../src/ports/index.ts"

/** The conductor whose LeaseAcquired on each node came last, by node uuid. */
export const lastHolders = (log: ReadonlyArray<StoredEvent>): Map<string, string> => {
  const holders = new Map<string, string>()
  for (const e of log)
    if (e.type === "LeaseAcquired") holders.set(e.streamId.replace(/^node-/, ""), (e.data as { holder: string }).holder)
  return holders
}

/** The MACs a conductor host's dnsmasq answers: its hosts file (the conductor's --state-dir/dhcp). */
export const dhcpHostsOf = (stateDir: string): Set<string> => {
  const file = join(stateDir, "dhcp", "dhcp-hosts")
  if (!existsSync(file)) return new Set()
  return new Set(readFileSync(file, "utf8").split("\n").filter((l) => l !== "" && !l.includes(",")))
}

export const dhcpLogOf = (stateDir: string): string => {
  const file = join(stateDir, "dhcp", "dnsmasq.log")
  return existsSync(file) ? readFileSync(file, "utf8") : ""
}

/** Whether a stretch of a dnsmasq log shows it ignoring `mac`, and whether it offered `mac` anything. */
export const dhcpVerdict = (logText: string, mac: string) => ({
  ignored: logText.includes(`) ${mac} ignored`),
  offered: new RegExp(`DHCPOFFER\\([^)]*\\) \\S+ ${mac}`).test(logText),
})
