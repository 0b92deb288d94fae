// The drivers `serve` runs: fake-hardware always; "ipmi" (real IPMI, PXE, iSCSI) when it has a
// state directory; and for `--sim N`, a rack of simulated machines on real servers when this machine
// can run them, else N fake-hardware nodes.
import { Effect } from "effect"
import type { Drivers } from "../application/conductor/hardware.ts"
import type { NodeService } from "../application/node-service.ts"
import type { Mac, NodeName } from "../domain/index.ts"
import { makeFakeHardware } from "../adapters/drivers/fake-hardware.ts"
import { passDeployInfoUrl, postPassDeployInfo } from "../adapters/sim/machine/callback.ts"
import { realRackUnavailable, startIpmi } from "./sim-rack/index.ts"

export interface DriverSetup {
  readonly drivers: Drivers
  /** Runs once the API listens: the simulated ramdisks post to it. */
  readonly connect: (apiUrl: string) => void
  /** Runs once the application is up: enrolls the simulated nodes this setup brings. */
  readonly ready?: (service: NodeService["Service"]) => Promise<void>
  readonly close: () => void | Promise<void>
}

/**
 * fake-hardware: when a node boots its deploy ramdisk, the simulated ramdisk posts pass_deploy_info
 * to this service's own API, over HTTP, exactly as a real ramdisk would.
 */
export const fakeHardwareDrivers = (options: { readonly diskDir?: string; readonly callbackDelayMs?: number; readonly log?: (line: string) => void } = {}): DriverSetup => {
  let apiUrl: string | undefined
  let closed = false
  const fake = makeFakeHardware({
    callbackDelayMs: options.callbackDelayMs ?? 200,
    ...(options.diskDir === undefined ? {} : { diskDir: options.diskDir }),
    callBack: (nodeId, cb) => {
      if (apiUrl === undefined || closed) return
      void postPassDeployInfo(passDeployInfoUrl(apiUrl, nodeId), {
        address: cb.address, port: String(cb.port), iqn: cb.iqn, lun: String(cb.lun), key: cb.key, error: cb.error,
        chap_user: cb.chapUser ?? "", chap_secret: cb.chapSecret ?? "",
      }, 30_000).then((r) => {
        if (r.kind === "unreachable" || r.status >= 300) options.log?.(`simulated ramdisk of ${nodeId}: call-back ${r.kind === "unreachable" ? r.reason : `answered ${r.status}`}`)
      })
    },
  })
  return {
    drivers: { "fake-hardware": fake.hardware },
    connect: (url) => { apiUrl = url },
    close: () => { closed = true },
  }
}

const fakeSimName = (i: number) => `sim-${String(i).padStart(5, "0")}`
const fakeSimMac = (i: number) => `52:54:00:${[16, 8, 0].map((s) => ((i >> s) & 0xff).toString(16).padStart(2, "0")).join(":")}`

/** Enrolls the simulated fake-hardware nodes that do not exist yet (a restart over the same log adds none). */
export const ensureFakeSimNodes = async (service: NodeService["Service"], count: number) => {
  for (let i = 1; i <= count; i++) {
    const exists = await Effect.runPromise(Effect.match(service.get(fakeSimName(i)), { onSuccess: () => true, onFailure: () => false }))
    if (exists) continue
    const node = await Effect.runPromise(service.enroll({
      name: fakeSimName(i) as NodeName, driver: "fake-hardware", driverInfo: {},
      properties: { cpus: 4, memory_mb: 8192, local_gb: 40, cpu_arch: "x86_64" }, instanceInfo: {}, extra: {},
    }, "serve:sim"))
    await Effect.runPromise(service.addPort({ nodeRef: node.uuid, mac: fakeSimMac(i) as Mac }, "serve:sim"))
  }
}

export interface ServeDriversOptions {
  /** Enables the "ipmi" driver: TFTP tree, image store, simulated rack live below it. */
  readonly stateDir?: string
  /** Simulated machines to run. */
  readonly sim: number
  /** Where fake-hardware keeps its simulated disks. */
  readonly diskDir?: string
  /** The conductor's ramdisk release port, where simulated ramdisks wait for "done". */
  readonly releasePort: number
  readonly log?: (line: string) => void
  /** Notices for the operator (stdout). */
  readonly say: (line: string) => void
}

export const serveDrivers = async (options: ServeDriversOptions): Promise<DriverSetup> => {
  const fake = fakeHardwareDrivers({
    ...(options.diskDir === undefined ? {} : { diskDir: options.diskDir }),
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  const why = options.sim === 0 ? null : options.stateDir === undefined ? "no --state-dir for the ipmi driver" : realRackUnavailable()
  if (why !== null) options.say(`--sim ${options.sim}: ${options.sim} simulated nodes on fake-hardware, not real servers (${why})`)
  const fakeSim = async (service: NodeService["Service"]) => { if (why !== null) await ensureFakeSimNodes(service, options.sim) }
  if (options.stateDir === undefined) return { ...fake, ready: fakeSim }
  const ipmi = await startIpmi({
    stateDir: options.stateDir, machines: why === null ? options.sim : 0, releasePort: options.releasePort, say: options.say,
  })
  return {
    drivers: { ...fake.drivers, ipmi: ipmi.hardware },
    connect: fake.connect,
    ready: async (service) => { await fakeSim(service); await ipmi.enroll(service) },
    close: async () => { await fake.close(); await ipmi.close() },
  }
}
