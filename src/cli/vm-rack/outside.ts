// The host's side of the VM service (ADR 0028): builds the deploy ramdisk (Debian packages come
// from the host's network: the namespace has none) and records it as the default deploy images,
// makes the rack's network namespace, runs the service inside it (./inside.ts under `ip netns exec`), and forwards a port on the host's
// loopback to it through a Unix socket. On close: the service stops, whatever is left in the
// namespace is killed, and the namespace is deleted. Needs root.
import { spawn, type ChildProcess } from "node:child_process"
import { join, resolve } from "node:path"
import { createInterface } from "node:readline"
import * as Effect from "effect/Effect"
import { makeFsImageStore } from "../../adapters/images/fs-image-store.ts"
import { buildRamdisk } from "../../adapters/ramdisk/build/build.ts"
import { buildToolsBundle } from "../../adapters/ramdisk/tools/bundle.ts"
import { registerToolsBundle } from "../../adapters/ramdisk/tools/register.ts"
import { registerRamdisk, writeDefaultDeployImages } from "../../adapters/ramdisk/build/register.ts"
import type { DiscoverySettings } from "../../application/discovery/settings.ts"
import { startApiForwarder } from "../../adapters/vm/api-forwarder.ts"
import { createRackNetwork, deleteRackNetwork, ip } from "../../adapters/vm/netns.ts"
import type { RackVm, VmBootMode } from "../../adapters/vm/rack.ts"
import type { RackRedfish, VmServiceOptions } from "./service.ts"

export interface VmRackServiceOptions {
  readonly namespace: string
  /** e.g. "10.213.0": the bridge (and the API) at .1. */
  readonly subnet24: string
  readonly count: number
  readonly stateDir: string
  readonly cacheDir: string
  /** The host's loopback port for the API (0: any free one). */
  readonly hostPort: number
  readonly db?: string
  readonly diskGib?: number
  /** Disks of each VM (default 1). */
  readonly disksPerVm?: number
  /** Build and register the ramdisk's tools bundle (burn-in steps; ADR 0100). */
  readonly tools?: boolean
  readonly enroll: boolean
  readonly instanceInfo?: Readonly<Record<string, unknown>>
  readonly uefiInstanceInfo?: Readonly<Record<string, unknown>>
  /** Firmware of VM i (default bios). */
  readonly bootModes?: ReadonlyArray<VmBootMode>
  readonly dnsmasqUser?: string
  /** Discovery of machines no node knows (ADR 0090). */
  readonly discovery?: DiscoverySettings
  /** The service's notices and log lines. */
  readonly onOutput?: (text: string) => void
  /** Bound on the start (the ramdisk build, if not cached, is most of it); default 15 min. */
  readonly startTimeoutMs?: number
}

export interface VmRackService {
  /** The API on the host's loopback. */
  readonly url: string
  /** The API as the VMs (and processes in the namespace) reach it. */
  readonly rackUrl: string
  readonly namespace: string
  readonly vms: ReadonlyArray<RackVm>
  /** The rack's Redfish BMC (reached from inside the namespace, where the service runs). */
  readonly redfish: RackRedfish
  /** Resolves when the service process ends (code, or null when killed). */
  readonly exited: Promise<number | null>
  readonly close: () => Promise<void>
}

const inside = resolve(import.meta.dirname, "inside.ts")
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const killNamespace = async (namespace: string) => {
  // QEMU and ipmi_sim are daemons of the service: if it died they are still in the namespace.
  const pids = (await ip(["netns", "pids", namespace]).catch(() => "")).split("\n").map(Number).filter((p) => p > 1)
  for (const pid of pids) try { process.kill(pid, "SIGKILL") } catch { /* gone */ }
  if (pids.length > 0) await sleep(200)
  await deleteRackNetwork(namespace)
}

export const startVmRackService = async (options: VmRackServiceOptions): Promise<VmRackService> => {
  if (process.getuid?.() !== 0) throw new Error("a VM rack needs root (network namespace, TAP devices)")
  const stateDir = resolve(options.stateDir)
  // Cached by its inputs: a second start takes seconds.
  const built = await buildRamdisk({ cacheDir: resolve(options.cacheDir), ...(options.onOutput ? { log: (l: string) => options.onOutput!(`${l}\n`) } : {}) })
  const storeRoot = join(stateDir, "images")
  const ids = await Effect.runPromise(registerRamdisk(await makeFsImageStore({ root: storeRoot }), built))
  await writeDefaultDeployImages(storeRoot, { ...ids, buildId: built.buildId })
  // Burn-in steps fetch their tools from the service (ADR 0100): built only when asked for.
  if (options.tools === true) await registerToolsBundle(storeRoot, await buildToolsBundle({ cacheDir: resolve(options.cacheDir) }))
  const network = await createRackNetwork({ namespace: options.namespace, subnet24: options.subnet24, tapCount: options.count })
  let child: ChildProcess | null = null
  let forwarder: { close: () => Promise<void> } | null = null
  let exited: Promise<number | null> = Promise.resolve(null)
  const close = async () => {
    await forwarder?.close()
    forwarder = null
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      let timer: NodeJS.Timeout | undefined
      const r = await Promise.race([exited, new Promise<"late">((ok) => { timer = setTimeout(() => ok("late"), 30_000) })])
      clearTimeout(timer)
      if (r === "late") { child.kill("SIGKILL"); await exited }
    }
    await killNamespace(network.namespace)
  }
  try {
    const socketPath = join(stateDir, "api.sock")
    const serviceOptions: Omit<VmServiceOptions, "say"> = {
      network, count: options.count, stateDir, socketPath, enroll: options.enroll,
      ...(options.db === undefined ? {} : { db: resolve(options.db) }),
      ...(options.diskGib === undefined ? {} : { diskGib: options.diskGib }),
      ...(options.disksPerVm === undefined ? {} : { disksPerVm: options.disksPerVm }),
      ...(options.dnsmasqUser === undefined ? {} : { dnsmasqUser: options.dnsmasqUser }),
      ...(options.discovery === undefined ? {} : { discovery: options.discovery }),
      ...(options.instanceInfo === undefined ? {} : { instanceInfo: options.instanceInfo }),
      ...(options.uefiInstanceInfo === undefined ? {} : { uefiInstanceInfo: options.uefiInstanceInfo }),
      ...(options.bootModes === undefined ? {} : { bootModes: options.bootModes }),
    }
    const started = spawn("ip", ["netns", "exec", network.namespace, process.execPath, "--disable-warning=ExperimentalWarning", inside, JSON.stringify(serviceOptions)], {
      stdio: ["ignore", "pipe", "pipe"],
    })
    child = started
    exited = new Promise((ok) => started.once("exit", (code) => ok(code)))
    let said = ""
    started.stderr!.on("data", (d: Buffer) => { said = (said + d.toString()).slice(-4000); options.onOutput?.(d.toString()) })
    const ready = await new Promise<{ url: string; vms: ReadonlyArray<RackVm>; redfish: RackRedfish }>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`the VM service did not start in time: ${said.slice(-1500)}`)), options.startTimeoutMs ?? 900_000)
      createInterface({ input: started.stdout! }).on("line", (line) => {
        try {
          const r = (JSON.parse(line) as { ready?: { url: string; vms: ReadonlyArray<RackVm>; redfish: RackRedfish } }).ready
          if (r !== undefined) { clearTimeout(timer); ok(r) }
        } catch { options.onOutput?.(line + "\n") }
      })
      void exited.then((code) => { clearTimeout(timer); fail(new Error(`the VM service exited (${code}): ${said.slice(-1500)}`)) })
    })
    const f = await startApiForwarder(socketPath, "127.0.0.1", options.hostPort)
    forwarder = f
    return { url: `http://127.0.0.1:${f.port}`, rackUrl: ready.url, namespace: network.namespace, vms: ready.vms, redfish: ready.redfish, exited, close }
  } catch (e) {
    await close()
    throw e
  }
}
