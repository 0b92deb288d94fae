// `ironledger serve --vms N` (root): N QEMU VMs behind ipmi_sim BMCs in a network namespace of
// their own, the service inside it (ADR 0028), the VMs enrolled as ipmi nodes vm0..vmN-1, and the
// API forwarded to the host's loopback (--port, default 6385) for the CLI. Until SIGINT/SIGTERM.
import { randomBytes } from "node:crypto"
import { join, resolve } from "node:path"
import { UsageError, type Parsed } from "../args.ts"
import { discoveryFromArgs } from "../discovery-options.ts"
import { unreadableByNobody } from "../sim-rack/preflight.ts"
import { tftpRootOf } from "../../adapters/netboot/index.ts"
import { buildUserImage } from "../../adapters/vm/user-image.ts"
import { buildWholeDiskImage } from "../../adapters/vm/whole-disk-image.ts"
import { startVmRackService } from "./outside.ts"

const NAMESPACE = "ironledger-vms"
const SUBNET = "10.213.0"

export const serveVms = async (args: Parsed, count: number, port: number) => {
  if (count < 1 || count > 32) throw new UsageError("--vms takes a number from 1 to 32")
  if (args.strings["sim"] !== undefined) throw new UsageError("give --vms or --sim, not both")
  if (args.strings["store"] !== undefined) throw new UsageError("--vms keeps its log in --db (SQLite)")
  if (process.getuid?.() !== 0) throw new UsageError("--vms needs root (a network namespace, TAP devices, QEMU behind ipmi_sim)")
  const db = resolve(args.strings["db"] ?? "ironledger.db")
  const stateDir = resolve(args.strings["state-dir"] ?? `${db}.state`)
  // dnsmasq serves TFTP as nobody; a tree it cannot read would answer "file not found".
  const unreadable = unreadableByNobody(tftpRootOf(stateDir))
  if (unreadable !== null) process.stdout.write(`warning: ${unreadable}; running dnsmasq as root instead\n`)
  let stop = () => {}
  const stopped = new Promise<void>((r) => { stop = r })
  process.once("SIGINT", () => stop())
  process.once("SIGTERM", () => stop())
  process.stdout.write(`starting ${count} VM(s) in network namespace ${NAMESPACE} (${SUBNET}.0/24); building the deploy ramdisk if not cached...\n`)
  const cacheDir = join(stateDir, "ramdisk-cache")
  // A sample to deploy: a partition image whose init prints a marker on the VM's serial console.
  const sample = await buildUserImage(cacheDir, join(stateDir, "sample-image"), randomBytes(4).toString("hex"))
  // Every second VM (vm1, vm3, ...) has UEFI firmware (OVMF) and deploys a whole-disk sample wrapping the same root.
  const bootModes = Array.from({ length: count }, (_, i) => (i % 2 === 1 ? "uefi" as const : "bios" as const))
  const wholeDisk = count > 1 ? await buildWholeDiskImage(cacheDir, join(stateDir, "sample-image"), sample) : null
  const running = await startVmRackService({
    namespace: NAMESPACE, subnet24: SUBNET, count, stateDir, cacheDir, hostPort: port, db,
    enroll: true, discovery: discoveryFromArgs(args), instanceInfo: { image_source: sample.root, kernel: sample.kernel, ramdisk: sample.ramdisk, root_gb: 1 }, bootModes,
    ...(wholeDisk === null ? {} : { uefiInstanceInfo: { image_source: wholeDisk.disk } }), onOutput: (t) => process.stderr.write(t), ...(unreadable === null ? {} : { dnsmasqUser: "root" }),
  })
  process.stdout.write(`ironledger API listening on ${running.url} (for the VMs: ${running.rackUrl}; log: ${db}, state: ${stateDir})\n`)
  for (const vm of running.vms) {
    process.stdout.write(`  ${vm.name}: ipmi node (${vm.bootMode === "uefi" ? "UEFI, OVMF" : "BIOS"}), BMC ${vm.bmc.address}:${vm.bmc.port} in ${NAMESPACE}, MAC ${vm.mac}, serial console ${vm.serialLog}\n`)
  }
  process.stdout.write(`Redfish BMC for every VM (system /redfish/v1/Systems/<vm>, powered through the same chassis control): ${running.redfish.url} in ${NAMESPACE}, ` +
    `user ${running.redfish.username}, password and CA in ${join(stateDir, "redfish.json")} (a VM enrolled as a redfish node uses these as redfish_*)\n`)
  process.stdout.write(`sample image (the VM nodes' instance_info): ${sample.root}${wholeDisk === null ? "" : ` (BIOS), ${wholeDisk.disk} (UEFI, whole disk)`}; once deployed, a VM's console shows "${sample.marker}"\n`)
  const ended = running.exited.then((code) => process.stdout.write(`the service in ${NAMESPACE} exited (${code})\n`))
  await Promise.race([stopped, ended])
  process.stdout.write("stopping\n")
  await running.close()
}
