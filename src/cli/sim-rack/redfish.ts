// The simulated rack's Redfish BMC, for `serve --sim N`: one emulator (src/adapters/sim/redfish)
// whose systems are the rack's machines, each powered through the machine's own ipmi_sim with
// ipmitool (machineBehind). A machine is then one machine with one power state whichever BMC front
// end a node names: the ipmi node sim-00001 and a redfish node on system sim-00001 act on the same
// machine simulator. Its URL, credentials and CA go to <state>/redfish.json (0600), as `serve --vms`
// writes them, so an operator can enroll a rack machine with driver `redfish`. The emulator's port
// and password change at each start: redfish nodes that named the previous one are re-pointed.
import { createHash, randomBytes } from "node:crypto"
import { chmodSync, readFileSync, writeFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import type { NodeService } from "../../application/node-service.ts"
import { join } from "node:path"
import { makeIpmitoolPowerDriver } from "../../adapters/ipmi/ipmitool-power-driver.ts"
import { machineBehind, selfSignedCertificate, startRedfishEmulator } from "../../adapters/sim/redfish/index.ts"
import type { RackMachine } from "./rack.ts"

/** As the VM rack's (src/cli/vm-rack/service.ts): what redfish_* of a node on this BMC take. */
export interface RackRedfishBmc {
  readonly url: string
  readonly username: string
  readonly password: string
  /** The emulator's certificate file, to trust as redfish_verify_ca. */
  readonly ca: string
}

/** ipmi_sim takes commands back to back (as the rack's ipmi nodes are told, src/cli/sim-rack/enroll.ts). */
const SIM_COMMAND_INTERVAL_MS = 100

/** A system UUID that stays the machine's across restarts (clients may key on it). */
const machineUuid = (name: string) => {
  const h = createHash("sha256").update(`ironledger sim rack ${name}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** What the previous start wrote, or null (first start, or a file edited beyond reading). */
const previousBmc = (file: string): RackRedfishBmc | null => {
  try {
    const b = JSON.parse(readFileSync(file, "utf8")) as Partial<RackRedfishBmc>
    return typeof b.url === "string" && typeof b.username === "string" && typeof b.password === "string" && typeof b.ca === "string"
      ? { url: b.url, username: b.username, password: b.password, ca: b.ca } : null
  } catch {
    return null
  }
}

const PAGE = 1000

/** Redfish nodes on the previous start's emulator, pointed at this one; failures are reported. */
const repoint = async (
  service: NodeService["Service"], from: RackRedfishBmc, to: RackRedfishBmc, say: (line: string) => void,
) => {
  for (let marker: string | undefined; ;) {
    const page = await Effect.runPromise(service.list({ driver: "redfish" }, { limit: PAGE, ...(marker === undefined ? {} : { marker }) }))
    for (const n of page.filter((x) => x.driverInfo["redfish_address"] === from.url)) {
      const driverInfo = Object.fromEntries(Object.entries(n.driverInfo).filter((e): e is [string, string | number | boolean | null] =>
        e[1] === null || ["string", "number", "boolean"].includes(typeof e[1])))
      const changes = { driverInfo: { ...driverInfo, redfish_address: to.url, redfish_username: to.username, redfish_password: to.password, redfish_verify_ca: to.ca } }
      const updated = await Effect.runPromise(Effect.result(service.update(n.uuid, changes, "serve:sim")))
      if (updated._tag === "Failure") say(`warning: redfish node ${n.name ?? n.uuid} could not be pointed at the rack's Redfish BMC: ${updated.failure.message}`)
    }
    if (page.length < PAGE) return
    marker = page.at(-1)!.uuid
  }
}

export const startRackRedfish = async (
  stateDir: string, machines: ReadonlyArray<RackMachine>, say: (line: string) => void,
): Promise<{
  readonly bmc: RackRedfishBmc
  /** Points the redfish nodes enrolled on the previous start's emulator at this one. */
  readonly repoint: (service: NodeService["Service"]) => Promise<void>
  readonly close: () => Promise<void>
}> => {
  const host = "127.0.0.1"
  const file = join(stateDir, "redfish.json")
  const previous = previousBmc(file)
  const tls = await selfSignedCertificate(host)
  const ca = join(stateDir, "redfish-ca.pem")
  writeFileSync(ca, tls.cert)
  const password = randomBytes(12).toString("hex")
  const ipmitool = makeIpmitoolPowerDriver()
  const emulator = await startRedfishEmulator({
    machines: machines.map((m) => machineBehind(ipmitool, { ...m.bmc.access, minCommandIntervalMs: SIM_COMMAND_INTERVAL_MS }, m.name, machineUuid(m.name))),
    username: "admin", password, tls, host, log: say,
  })
  const bmc: RackRedfishBmc = { url: emulator.url, username: "admin", password, ca }
  // Secrets for the operator, kept out of stdout and logs; 0600 also when the file was there before.
  writeFileSync(file, JSON.stringify(bmc, null, 2) + "\n", { mode: 0o600 })
  chmodSync(file, 0o600)
  say(`Redfish BMC for every machine (system /redfish/v1/Systems/<machine>, powered through its ipmi_sim): ${emulator.url}, ` +
    `user ${bmc.username}, password and CA in ${file} (a machine enrolled as a redfish node uses these as redfish_*)`)
  return {
    bmc, close: emulator.close,
    repoint: (service) => previous === null || previous.url === bmc.url ? Promise.resolve() : repoint(service, previous, bmc, say),
  }
}
