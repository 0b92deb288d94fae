// A rack of QEMU VMs for real deploys (ADR 0027): N machines, each behind its own ipmi_sim BMC whose
// chassis control program runs QEMU, NICs on a bridge in a network namespace of the rack's own,
// where the service's dnsmasq answers DHCP and TFTP. A scoped resource: closing the scope stops
// the VMs, the BMCs and dnsmasq and deletes the namespace.
import { spawn, type ChildProcess } from "node:child_process"
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs"
import { execFile } from "node:child_process"
import { join, resolve } from "node:path"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { startDnsmasq, type Dnsmasq, type DnsmasqFailed } from "../pxe/dnsmasq.ts"
import { bmcEmu } from "../sim/bmc/config-files.ts"
import { invalidVmBmc, vmLanConf, vmLanConfigScript } from "./bmc-files.ts"
import { chassisControlScript } from "./chassis-control.ts"
import { createRackNetwork, deleteRackNetwork, inNamespace, namespacedProgram, type RackNetwork } from "./netns.ts"
import type { VmSpec } from "./qemu-argv.ts"

export class VmRackFailed extends Data.TaggedError("VmRackFailed")<{ readonly reason: string }> {
  override get message() { return `VM rack: ${this.reason}` }
}

/** BIOS boots via SeaBIOS and iPXE into pxelinux: these files go into the TFTP root. */
export const BIOS_BOOTLOADER_FILES = ["/usr/lib/PXELINUX/pxelinux.0", "/usr/lib/syslinux/modules/bios/ldlinux.c32"]
/** UEFI (x86-64) firmware gets syslinux.efi, which reads the same per-MAC pxelinux.cfg files (ADR 0080). */
export const UEFI_BOOTLOADER_FILES = ["/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi", "/usr/lib/syslinux/modules/efi64/ldlinux.e64"]
/** OVMF (package ovmf): the code is shared read-only, each UEFI VM gets its own copy of the vars. */
export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"

export type VmBootMode = "bios" | "uefi"

export interface VmRackSpec {
  /** The rack's own directory (VM disks, logs, BMC files, dnsmasq state). */
  readonly dir: string
  readonly namespace: string
  /** First three octets of the rack's /24, e.g. "10.213.0". */
  readonly subnet24: string
  readonly count: number
  /** Served over TFTP by the rack's dnsmasq; must be readable by dnsmasq's user. */
  readonly tftpRoot: string
  readonly memoryMb?: number
  readonly diskGib?: number
  /** Disks of each VM, all diskGib large (default 1; 2 or more: members for a software RAID). */
  readonly disksPerVm?: number
  readonly bmcUser?: string
  readonly bmcPassword?: string
  /** Default 6230: VM i's BMC listens on 127.0.0.1:(base + i) inside the namespace. */
  readonly bmcPortBase?: number
  /** dnsmasq's user after it binds (default its own, "nobody"). */
  readonly dnsmasqUser?: string
  /**
   * A network made beforehand with createRackNetwork (e.g. by a parent process that then runs the
   * service inside it): used as is and left in place on close. Default: the rack makes its own.
   */
  readonly network?: RackNetwork
  /** dnsmasq answers MACs no node links too (discovery, ADR 0090); default: only linked ones. */
  readonly answerUnknownMacs?: boolean
  /** Firmware of VM i (default bios): "uefi" boots it with OVMF. */
  readonly bootModes?: ReadonlyArray<VmBootMode>
}

export interface RackVm {
  readonly name: string
  readonly mac: string
  /** Its firmware: SeaBIOS ("bios") or OVMF ("uefi"). */
  readonly bootMode: VmBootMode
  readonly disk: string
  /** Every disk file in the guest's order (vda, vdb...): disk first. */
  readonly disks: ReadonlyArray<string>
  readonly serialLog: string
  /** A line per QEMU start with the boot device it was given. */
  readonly powerLog: string
  readonly bmc: { readonly address: string; readonly port: number; readonly username: string; readonly password: string }
}

export interface VmRack {
  readonly network: RackNetwork
  readonly vms: ReadonlyArray<RackVm>
  readonly dnsmasq: Dnsmasq
  /** argv that runs a program inside the rack's namespace (ipmitool, qemu-img, a listener...). */
  readonly exec: (argv: ReadonlyArray<string>) => ReadonlyArray<string>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const runIn = (argv: ReadonlyArray<string>, env: Record<string, string> = {}) => new Promise<string>((resolvePromise, reject) => {
  execFile(argv[0]!, argv.slice(1), { env: { ...process.env, LC_ALL: "C", ...env }, timeout: 15_000 }, (error, stdout, stderr) =>
    error === null ? resolvePromise(stdout) : reject(new Error(`${argv.join(" ")}: ${stderr.trim() || error.message}`)))
})

/** Runs ipmitool against a VM's BMC from inside the namespace; the password goes through the environment. */
export const rackIpmitool = (rack: VmRack, vm: RackVm, args: ReadonlyArray<string>) =>
  runIn(rack.exec(["ipmitool", "-I", "lanplus", "-C", "3", "-H", vm.bmc.address, "-p", String(vm.bmc.port), "-U", vm.bmc.username, "-E", ...args]),
    { IPMI_PASSWORD: vm.bmc.password })

const macOf = (subnet24: string, i: number) => {
  const third = Number(subnet24.split(".")[2])
  return `52:54:00:7e:${third.toString(16).padStart(2, "0")}:${(i + 1).toString(16).padStart(2, "0")}`
}

interface Running {
  readonly network: RackNetwork
  readonly ownsNetwork: boolean
  readonly bmcs: ReadonlyArray<{ readonly child: ChildProcess; readonly pidFile: string }>
}

const killPidFile = async (pidFile: string) => {
  const pid = Number.parseInt(existsSync(pidFile) ? readFileSync(pidFile, "utf8") : "", 10)
  if (!Number.isInteger(pid) || pid <= 1) return
  try { process.kill(pid, "SIGKILL") } catch { return }
  for (let i = 0; i < 50; i++) { try { process.kill(pid, 0) } catch { return } await sleep(50) }
}

const stopRunning = async (r: Running) => {
  for (const b of r.bmcs) {
    // ipmi_sim first (it would restart nothing, but it holds the VM's BMC socket), then its VM.
    try { process.kill(-b.child.pid!, "SIGKILL") } catch { /* gone */ }
    await killPidFile(b.pidFile)
  }
  if (r.ownsNetwork) await deleteRackNetwork(r.network.namespace)
}

const launch = async (spec: VmRackSpec, vms: ReadonlyArray<RackVm & { readonly vm: VmSpec; readonly dir: string }>): Promise<Running> => {
  const given = spec.network
  if (given !== undefined && (given.namespace !== spec.namespace || given.taps.length < spec.count))
    throw new VmRackFailed({ reason: `the given network is ${given.namespace} with ${given.taps.length} taps, not ${spec.namespace} with ${spec.count}` })
  const network = given ?? await createRackNetwork({ namespace: spec.namespace, subnet24: spec.subnet24, tapCount: spec.count })
  const bmcs: Array<{ child: ChildProcess; pidFile: string }> = []
  const running: Running = { network, ownsNetwork: given === undefined, bmcs }
  try {
    for (const v of vms) {
      const control = join(v.dir, "chassis-control")
      writeFileSync(control, chassisControlScript(v.vm, { bootFile: join(v.dir, "boot-device"), mediaFile: join(v.dir, "cd-media"), powerLog: v.powerLog }), { mode: 0o700 })
      // The BMC listens on every address of the namespace and tells `lan print` (in-band too) the
      // rack's own: the address discovery reads from the machine (ADR 0090).
      const lanConfig = join(v.dir, "lan-config")
      writeFileSync(lanConfig, vmLanConfigScript(network.gateway, v.mac.replace(/^52/, "02")), { mode: 0o700 })
      const bmcSpec = {
        name: v.name, port: v.bmc.port, vmPort: v.bmc.port + 1000, username: v.bmc.username, password: v.bmc.password, chassisControl: control,
        ...(v.vm.solPort === undefined ? {} : { solPort: v.vm.solPort }),
        listenAddress: "0.0.0.0", lanConfigProgram: `${lanConfig} eth0`,
      }
      const invalid = invalidVmBmc(bmcSpec)
      if (invalid !== null) throw new VmRackFailed({ reason: invalid })
      writeFileSync(join(v.dir, "lan.conf"), vmLanConf(bmcSpec), { mode: 0o600 })
      writeFileSync(join(v.dir, "bmc.emu"), bmcEmu)
      mkdirSync(join(v.dir, "bmc-state"), { recursive: true })
      for (const disk of v.disks) {
        writeFileSync(disk, "")
        chmodSync(disk, 0o600)
        // A sparse file: only what the deploy writes takes space.
        await runIn(["truncate", "-s", `${spec.diskGib ?? 4}G`, disk])
      }
      const log = openSync(join(v.dir, "ipmi_sim.log"), "a")
      const child = spawn("ip", inNamespace(network.namespace, ["ipmi_sim", "-c", join(v.dir, "lan.conf"), "-f", join(v.dir, "bmc.emu"), "-s", join(v.dir, "bmc-state"), "-n"]).slice(1), {
        cwd: v.dir, detached: true, stdio: ["ignore", log, log],
      })
      closeSync(log)
      bmcs.push({ child, pidFile: v.vm.pidFile })
    }
    const rack = { network, vms, exec: (argv: ReadonlyArray<string>) => inNamespace(network.namespace, argv) } as unknown as VmRack
    for (const v of vms) {
      const deadline = performance.now() + 10_000
      for (;;) {
        const answer = await rackIpmitool(rack, v, ["chassis", "power", "status"]).catch((e: Error) => e)
        if (typeof answer === "string") break
        if (performance.now() > deadline) {
          const said = readFileSync(join(v.dir, "ipmi_sim.log"), "utf8").trim().slice(-300)
          throw new VmRackFailed({ reason: `BMC of ${v.name} did not answer: ${answer.message} (ipmi_sim: ${said})` })
        }
        await sleep(100)
      }
    }
    return running
  } catch (e) {
    await stopRunning(running)
    throw e
  }
}

export const startVmRack = (spec: VmRackSpec): Effect.Effect<VmRack, VmRackFailed | DnsmasqFailed, Scope.Scope> =>
  Effect.gen(function* () {
    if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > 32) return yield* Effect.fail(new VmRackFailed({ reason: "a rack has 1 to 32 VMs" }))
    const dir = resolve(spec.dir)
    const unknown = (spec.bootModes ?? []).find((m) => m !== "bios" && m !== "uefi")
    if (unknown !== undefined) return yield* Effect.fail(new VmRackFailed({ reason: `boot mode ${JSON.stringify(unknown)}: bios or uefi` }))
    if ((spec.bootModes ?? []).includes("uefi") && !existsSync(OVMF_CODE)) return yield* Effect.fail(new VmRackFailed({ reason: `a UEFI VM needs ${OVMF_CODE} (Debian package ovmf)` }))
    const diskCount = spec.disksPerVm ?? 1
    if (!Number.isInteger(diskCount) || diskCount < 1 || diskCount > 4) return yield* Effect.fail(new VmRackFailed({ reason: `disksPerVm ${diskCount}: 1 to 4` }))
    if (/["'\s]/.test(dir)) return yield* Effect.fail(new VmRackFailed({ reason: `directory ${dir}: no quotes or spaces` }))
    const vms = Array.from({ length: spec.count }, (_, i) => {
      const name = `vm${i}`
      const vmDir = join(dir, name)
      mkdirSync(vmDir, { recursive: true })
      const mac = macOf(spec.subnet24, i)
      const port = (spec.bmcPortBase ?? 6230) + i
      const bootMode = spec.bootModes?.[i] ?? "bios"
      const vars = join(vmDir, "OVMF_VARS.fd")
      if (bootMode === "uefi") copyFileSync(OVMF_VARS, vars)
      const disks = Array.from({ length: diskCount }, (_, d) => join(vmDir, d === 0 ? "disk.img" : `disk${d}.img`))
      const vm: VmSpec = {
        name, memoryMb: spec.memoryMb ?? 512, disk: disks[0]!, extraDisks: disks.slice(1), tap: `tap${i}`, mac,
        // The serial port is SOL's (ipmi_sim connects to it) and still logged to console.log.
        serialLog: join(vmDir, "console.log"), bmcPort: port + 1000, solPort: port + 2000, pidFile: join(vmDir, "qemu.pid"),
        qmpSocket: join(vmDir, "qmp.sock"), firmware: bootMode === "uefi" ? { kind: "uefi", code: OVMF_CODE, vars } : { kind: "bios" },
      }
      return {
        name, mac, bootMode, disk: vm.disk, disks, serialLog: vm.serialLog, powerLog: join(vmDir, "power.log"), vm, dir: vmDir,
        bmc: { address: "127.0.0.1", port, username: spec.bmcUser ?? "admin", password: spec.bmcPassword ?? "ironledger" },
      }
    })
    const running = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => launch(spec, vms), catch: (e) => e instanceof VmRackFailed ? e : new VmRackFailed({ reason: (e as Error).message }) }),
      (r) => Effect.promise(() => stopRunning(r)),
    )
    const network = running.network
    const wrapper = namespacedProgram(dir, network.namespace, "dnsmasq")
    const dnsmasq = yield* startDnsmasq({
      tftpRoot: spec.tftpRoot,
      stateDir: join(dir, "dnsmasq"),
      program: wrapper,
      ...(spec.dnsmasqUser === undefined ? {} : { user: spec.dnsmasqUser }),
      bootloaderFiles: [...BIOS_BOOTLOADER_FILES, ...UEFI_BOOTLOADER_FILES],
      mode: {
        kind: "network", interface: network.bridge, bootFile: "pxelinux.0", efiBootFile: "syslinux.efi", onlyKnownMacs: !(spec.answerUnknownMacs ?? false),
        routerAdvertisements: true,
        dhcp: { kind: "range", start: `${spec.subnet24}.100`, end: `${spec.subnet24}.199`, netmask: "255.255.255.0", leaseTime: "1h" },
      },
    })
    return {
      network, dnsmasq,
      vms: vms.map(({ vm: _vm, dir: _dir, ...public_ }) => public_),
      exec: (argv) => inNamespace(network.namespace, argv),
    } satisfies VmRack
  })
