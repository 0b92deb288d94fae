// One simulated bare-metal server, as one OS process: its BMC (ipmi_sim) starts it on power on and
// kills it on power off (SIGTERM, then SIGKILL after kill_wait).
//
//   node src/adapters/sim/machine/machine.ts --config <machine.json>
//
// Power on -> the boot device its BMC keeps (IRONLEDGER_BOOT_DEVICE_FILE, read at every boot, its
// own reboots too): "default" (bootdev disk) boots the local disk; "pxe", or none set, PXE:
// fetch pxelinux.cfg/01-<mac> over TFTP and boot its default label:
//   - deploy ramdisk (append has deployment_key + iscsi_target_iqn): fetch kernel and initrd, export
//     the disk over iSCSI (own tgtd, CHAP), POST pass_deploy_info, wait for "done" on the release
//     port, remove the target, reboot (PXE again);
//   - kernel with root=UUID=<uuid>: check the disk's last partition holds that filesystem, "booted";
//   - localboot, or no PXE config at all: boot the local disk if it has an MBR.
// Then it idles until powered off. Progress goes to <stateDir>/status.json (see ./status.ts).
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { basename, dirname } from "node:path"
import { parseArgs } from "node:util"
import * as E from "fp-ts/lib/Either.js"
import { checkBootDisk } from "./boot-check.ts"
import { passDeployInfoUrl, postPassDeployInfo, type PassDeployInfo } from "./callback.ts"
import { loadMachineConfig, pxeConfigName, type MachineConfig } from "./config.ts"
import { watchForMidWriteDeath } from "./crash.ts"
import { ensureDisk } from "./disk.ts"
import { bootLabel, kernelArgs, parsePxeConfig, tftpPath, type PxeLabel } from "./pxelinux.ts"
import { listenForRelease, type ReleaseListener } from "./release-listener.ts"
import { statusRecorder, type StatusRecorder } from "./status.ts"
import { tftpGet } from "./tftp.ts"
import { httpAgentTransport, runAgentLoop } from "../agent-steps.ts"
import { defaultSimMachine, postSimInventory, simInventory } from "../inventory.ts"
import { reapStaleTgtd, startRamdiskTarget, type RamdiskTarget } from "./tgtd.ts"
import { BOOT_DEVICE_FILE_ENV } from "../bmc/chassis-control.ts"

/** How long a machine rebooted by its own ramdisk waits for the conductor to retire that deploy's config. */
const STALE_DEPLOY_WAIT_MS = 60_000
/** ipmi_sim SIGKILLs the machine kill_wait (2 s by default) after SIGTERM: finish well before. */
const POWER_OFF_BUDGET_MS = 1500

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

class BootFailure extends Error {}

const isLoopbackUrl = (url: string): boolean => {
  try {
    const host = new URL(url).hostname
    return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  } catch {
    return false
  }
}

type Next = "reboot" | "idle"

/** What the BMC's chassis control keeps: "pxe", "default" (the disk), or null (none set: PXE first). */
const bootDevice = (): string | null => {
  const file = process.env[BOOT_DEVICE_FILE_ENV]
  if (file === undefined || file === "") return null
  try { return readFileSync(file, "utf8").trim() || null } catch { return null }
}

const machine = (config: MachineConfig, status: StatusRecorder) => {
  let tgtd: RamdiskTarget | null = null
  let listener: ReleaseListener | null = null
  /** Keys of deploys this power cycle already finished: a reboot must not run them again at once. */
  const finishedDeploys = new Set<string>()

  const tftp = (path: string, keep: boolean) => tftpGet(tftpPath(path), { server: config.tftpServer, timeoutMs: config.tftpTimeoutMs, keep })

  const fetchBootFiles = async (label: PxeLabel) => {
    for (const [what, path] of [["kernel", label.kernel], ["initrd", label.initrd]] as const) {
      if (path === null) continue
      const got = await tftp(path, false)
      if (got.kind === "missing") throw new BootFailure(`${what} ${path} of label "${label.name}" is not on the TFTP server`)
      if (got.kind === "error") throw new BootFailure(`${what} ${path}: ${got.reason}`)
    }
  }

  /** The PXE config's text, null when the server has none for this MAC. Retries transient errors. */
  const fetchPxeConfig = async (): Promise<string | null> => {
    let reason = ""
    for (let attempt = 0; attempt < 3; attempt++) {
      const got = await tftp(pxeConfigName(config.mac), true)
      if (got.kind === "ok") return got.bytes.toString("utf8")
      if (got.kind === "missing") return null
      reason = got.reason
      await sleep(300)
    }
    throw new BootFailure(`PXE: ${reason}`)
  }

  const bootLocalDisk = (why: string): Next => {
    const check = checkBootDisk(config.diskPath, null)
    if (check.ok) status.record("booted", { label: "local disk", rootUuid: null })
    else status.record("failed", { reason: `${why} and no bootable disk: ${check.reason}` })
    return "idle"
  }

  const bootKernel = async (label: PxeLabel, args: ReadonlyMap<string, string>): Promise<Next> => {
    await fetchBootFiles(label)
    const root = args.get("root")
    // A kernel without root= (a rescue ramdisk) needs nothing from the disk.
    if (root === undefined) {
      status.record("booted", { label: label.name, rootUuid: null })
      return "idle"
    }
    if (!root.startsWith("UUID=")) throw new BootFailure(`root=${root}: only root=UUID=<uuid> can be checked`)
    const check = checkBootDisk(config.diskPath, root.slice("UUID=".length))
    if (!check.ok) throw new BootFailure(check.reason)
    status.record("booted", { label: label.name, rootUuid: check.rootUuid })
    return "idle"
  }

  const crash = (written: number) => {
    status.record("failed", { reason: `simulated crash mid-write (${written} bytes written)` })
    tgtd?.killNow()
    process.kill(process.pid, "SIGKILL")
  }

  const deployRamdisk = async (label: PxeLabel, args: ReadonlyMap<string, string>): Promise<Next> => {
    status.record("deploy-ramdisk", { label: label.name })
    await fetchBootFiles(label)
    const key = args.get("deployment_key") ?? ""
    const iqn = args.get("iscsi_target_iqn") ?? ""
    const apiUrl = args.get("ironic_api_url") ?? ""
    const nodeUuid = args.get("node_uuid") ?? basename(dirname(label.kernel ?? ""))
    if (key === "") throw new BootFailure("the deploy label has an empty deployment_key")
    if (!/^[A-Za-z0-9.:_-]{1,223}$/.test(iqn)) throw new BootFailure(`iscsi_target_iqn ${JSON.stringify(iqn)} is not a usable target name`)
    if (!isLoopbackUrl(apiUrl)) throw new BootFailure(`ironic_api_url ${JSON.stringify(apiUrl)}: only a loopback API can be called`)
    if (!/^[A-Za-z0-9._~-]+$/.test(nodeUuid)) throw new BootFailure(`no node uuid: neither node_uuid= nor a <uuid>/ kernel directory`)

    // The inventory is offered first (ADR 0058): taken, the machine was booted for an inspection.
    const inventory = simInventory(defaultSimMachine(nodeUuid, config.diskBytes, [config.mac]))
    if (!config.faults.neverCallBack && await postSimInventory(apiUrl, nodeUuid, key, inventory)) {
      status.record("inspected", { label: label.name, nodeUuid })
      return "idle"
    }

    const chapUser = `ramdisk-${randomBytes(4).toString("hex")}`
    // Hex: tgtd splits its parameters on commas.
    const chapSecret = randomBytes(12).toString("hex")
    const portal = `${config.address}:${config.iscsiPort}`
    tgtd = await startRamdiskTarget({
      controlPort: config.tgtdControlPort, address: config.address, port: config.iscsiPort, stateDir: config.stateDir,
      export: { iqn, diskPath: config.diskPath, chapUser, chapSecret },
    })
    listener = await listenForRelease(config.address, config.releasePort, config.releaseTimeoutMs, (w) => status.log(`ignored: ${w}`))
    status.record("exported", { label: label.name, portal, iqn, nodeUuid })
    const fault = config.faults.dieMidWrite
    const stopWatch = fault === null ? null : watchForMidWriteDeath(config.diskPath, fault, crash)

    if (config.faults.neverCallBack) {
      status.log("fault neverCallBack: not calling back")
    } else {
      const body: PassDeployInfo = {
        address: config.address, port: String(config.iscsiPort), iqn, lun: "1",
        key: config.faults.wrongKey ? randomBytes(16).toString("hex") : key,
        error: config.faults.postError ? "simulated disk failure" : null,
        chap_user: chapUser, chap_secret: chapSecret,
      }
      const answer = await postPassDeployInfo(passDeployInfoUrl(apiUrl, nodeUuid), body, config.callbackTimeoutMs)
      if (answer.kind === "unreachable") throw new BootFailure(`pass_deploy_info: ${answer.reason}`)
      if (answer.status >= 300) status.log(`pass_deploy_info answered ${answer.status}: ${answer.body}`)
      status.record("called-back", { label: label.name, portal, iqn, nodeUuid, callbackStatus: answer.status })
    }

    // A cleaning's ramdisk runs the in-band steps the service hands it until released (ADR 0057);
    // a deploy's is told at once that there are none.
    let released = false
    const agent = config.faults.neverCallBack ? Promise.resolve()
      : runAgentLoop(httpAgentTransport(apiUrl, nodeUuid, key), config.diskPath, { pollMs: 300, stopped: () => released })
    const outcome = await listener.released
    released = true
    await agent
    stopWatch?.()
    await stopRamdisk()
    if (outcome.kind === "timeout") throw new BootFailure(`no "done" within ${config.releaseTimeoutMs} ms`)
    finishedDeploys.add(key)
    status.record("released", { label: label.name, nodeUuid, reason: `"done" from ${outcome.from}` })
    return "reboot"
  }

  /** Removes what the deploy ramdisk set up. Idempotent. */
  const stopRamdisk = async () => {
    const l = listener
    listener = null
    await l?.close()
    // Still reachable by the power-off deadline's killNow while it stops.
    const t = tgtd
    await t?.stop()
    if (tgtd === t) tgtd = null
  }

  const bootOnce = async (): Promise<Next> => {
    const device = bootDevice()
    if (device === "default") return bootLocalDisk("the boot device is the disk")
    status.record("pxe")
    const staleUntil = performance.now() + STALE_DEPLOY_WAIT_MS
    for (let waited = false; ;) {
      const text = await fetchPxeConfig()
      if (text === null) return bootLocalDisk(`no PXE config ${pxeConfigName(config.mac)}`)
      const label = bootLabel(parsePxeConfig(text))
      if (typeof label === "string") throw new BootFailure(label)
      if (label.localboot) return bootLocalDisk(`label "${label.name}" boots the local disk`)
      const args = kernelArgs(label.append)
      const isDeploy = args.has("deployment_key") && args.has("iscsi_target_iqn")
      if (!isDeploy) return bootKernel(label, args)
      // Our own reboot after "done" can beat the conductor's switch to the boot label.
      if (finishedDeploys.has(args.get("deployment_key")!) && performance.now() < staleUntil) {
        if (!waited) status.log("PXE still offers the deploy that just finished; waiting for the conductor")
        waited = true
        await sleep(250)
        continue
      }
      return deployRamdisk(label, args)
    }
  }

  const run = async () => {
    const reaped = await reapStaleTgtd(config.stateDir)
    if (reaped !== null) status.log(`reaped tgtd ${reaped} left by an earlier boot`)
    ensureDisk(config.diskPath, config.diskBytes)
    for (;;) {
      let next: Next
      try {
        next = await bootOnce()
      } catch (e) {
        await stopRamdisk().catch(() => undefined)
        status.record("failed", { reason: e instanceof BootFailure ? e.message : `unexpected: ${(e as Error).stack ?? String(e)}` })
        next = "idle"
      }
      if (next === "idle") return
      await sleep(config.rebootDelayMs)
    }
  }

  let poweringOff = false
  const powerOff = (signal: string) => {
    if (poweringOff) return
    poweringOff = true
    status.log(`${signal}: powering off`)
    setTimeout(() => { tgtd?.killNow(); process.exit(0) }, POWER_OFF_BUDGET_MS)
    void stopRamdisk().catch(() => undefined).finally(() => {
      status.record("off")
      process.exit(0)
    })
  }

  return { run, powerOff, killTgtdNow: () => tgtd?.killNow() }
}

const main = () => {
  const { values } = parseArgs({ options: { config: { type: "string" } } })
  if (values.config === undefined) {
    process.stderr.write("usage: machine.ts --config <machine.json>\n")
    process.exit(2)
  }
  const loaded = loadMachineConfig(values.config)
  if (E.isLeft(loaded)) {
    process.stderr.write(`machine: ${loaded.left}\n`)
    process.exit(2)
  }
  const status = statusRecorder(loaded.right.name, loaded.right.stateDir)
  const m = machine(loaded.right, status)
  process.on("SIGTERM", () => m.powerOff("SIGTERM"))
  process.on("SIGINT", () => m.powerOff("SIGINT"))
  // Whatever ends this process, its tgtd must not outlive it.
  process.on("exit", () => m.killTgtdNow())
  // Powered on and idle until killed, like a machine sitting at a login prompt or a boot error.
  setInterval(() => undefined, 1 << 30)
  void m.run()
}

main()
