// bench:vm — figures of the real-machine path, printed (not a test): the deploy ramdisk's build time
// and size, cold (an empty cache: apt downloads included) and cached; then one QEMU VM (TCG) behind
// ipmi_sim in a rack namespace of its own (`serve --vms 1`'s service): power-on -> call-back, and a
// 256 MiB partition image deployed end to end (request -> active -> the image's marker on the
// console), with the write's MiB/s inside the deploy; before the VM, the same image written to a
// tgtd LUN on loopback by the block writer and by plain `qemu-img convert` (./iscsi-write.ts, as bench:iscsi).
// Needs root. Usage: node bench/vm.ts [--image-mib 256] [--rounds 3] [--ramdisk-cache DIR]
// (--ramdisk-cache: an existing cache, e.g. the tests'; then only the cached build is timed).
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { buildRamdisk } from "../src/adapters/ramdisk/build/build.ts"
import { buildUserImage } from "../src/adapters/vm/user-image.ts"
import { startVmRackService, type VmRackService } from "../src/cli/vm-rack/outside.ts"
import { vmNodeOf } from "../src/cli/vm-rack/service.ts"
import { MiB } from "../src/domain/partition.ts"
import { measureIscsiWrites, printIscsiWrites } from "./iscsi-write.ts"
import { okClient } from "../test/adapters/http-harness.ts"

const { values } = parseArgs({ options: {
  "image-mib": { type: "string", default: "256" }, rounds: { type: "string", default: "3" }, "ramdisk-cache": { type: "string" },
} })
const imageMib = Number(values["image-mib"])
const rounds = Number(values.rounds)
if (!Number.isInteger(imageMib) || imageMib < 32 || imageMib > 900) throw new Error("--image-mib: 32 to 900 (the root partition is 1 GiB)")
if (process.getuid?.() !== 0) throw new Error("bench:vm needs root (network namespace, TAP devices, tgtd)")

const work = mkdtempSync(join(tmpdir(), "ironledger-bench-vm-"))
chmodSync(work, 0o755) // dnsmasq reads the TFTP tree as nobody
let service: VmRackService | null = null
const cleanUp = async () => {
  await service?.close()
  service = null
  rmSync(work, { recursive: true, force: true })
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)))

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const timed = async <A>(run: () => Promise<A>): Promise<[A, number]> => {
  const started = performance.now()
  const value = await run()
  return [value, performance.now() - started]
}
const say = (what: string, figure: string) => console.log(`${what.padEnd(58)} ${figure}`)

type Doc = Record<string, any>
const api = okClient(() => service!.url)
const reach = async (name: string, wanted: string, ms: number) => {
  for (const deadline = Date.now() + ms; ;) {
    const n = await api("GET", `/v1/nodes/${name}`)
    if (n["provision_state"] === wanted && n["target_provision_state"] === null) return n
    if (/failed$/.test(String(n["provision_state"]))) throw new Error(`${name} ${n["provision_state"]}: ${n["last_error"]}`)
    if (Date.now() > deadline) throw new Error(`${name} not ${wanted} within ${ms} ms (now ${n["provision_state"]})`)
    await sleep(250)
  }
}

/** The user image's root filesystem grown to `mib`, four fifths of it a file of random bytes (no writer skips it). */
const bigRootImage = (tree: string, mib: number) => {
  const payloadMib = Math.floor(mib * 0.8)
  const fd = openSync(join(tree, "payload"), "w")
  for (let done = 0; done < payloadMib; done += 16) writeSync(fd, randomBytes(Math.min(16, payloadMib - done) * MiB))
  closeSync(fd)
  const image = join(work, `root-${mib}.ext4`)
  for (const [program, ...args] of [["truncate", "-s", `${mib}M`, image], ["mkfs.ext4", "-q", "-F", "-L", "root", "-d", tree, image]] as const) {
    const r = spawnSync(program, args, { encoding: "utf8" })
    if (r.status !== 0) throw new Error(`${program}: ${r.stderr}`)
  }
  return image
}

try {
  console.log(`bench:vm on ${new Date().toISOString()}, load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`)
  const cache = values["ramdisk-cache"] ?? join(work, "ramdisk-cache")
  const [first, firstMs] = await timed(() => buildRamdisk({ cacheDir: cache }))
  const [cached, cachedMs] = await timed(() => buildRamdisk({ cacheDir: cache }))
  if (!cached.cached || cached.initramfsSha256 !== first.initramfsSha256) throw new Error("the second ramdisk build was not the cached copy of the first")
  if (!first.cached) say("ramdisk build, cold (empty cache, apt download included)", seconds(firstMs))
  say("ramdisk build, cached", seconds(cachedMs))
  say("ramdisk size: initramfs / kernel", `${(first.initramfsBytes / MiB).toFixed(1)} MiB / ${(first.kernelBytes / MiB).toFixed(1)} MiB`)

  const user = await buildUserImage(cache, join(work, "user-image"), randomBytes(6).toString("hex"))
  const image = bigRootImage(join(work, "user-image", "rootfs"), imageMib)
  // The same image to a tgtd LUN on loopback: the block writer against plain qemu-img convert.
  const lunDir = mkdtempSync(join(work, "lun-"))
  printIscsiWrites(await measureIscsiWrites(image, rounds, lunDir), imageMib, rounds)
  rmSync(lunDir, { recursive: true, force: true })

  const [started, startMs] = await timed(() => startVmRackService({
    namespace: `ironledger-b${process.pid}`, subnet24: "10.213.77", count: 1, stateDir: join(work, "state"), cacheDir: cache,
    hostPort: 0, enroll: false,
  }))
  service = started
  say("VM rack service start (namespace, dnsmasq, ipmi_sim, API)", seconds(startMs))
  const vm = service.vms[0]!
  const spec = vmNodeOf(vm, 4)
  const node = await api("POST", "/v1/nodes", {
    name: spec.name, driver: "ipmi", driver_info: spec.driverInfo, properties: spec.properties, automated_clean: false,
    instance_info: { image_source: image, kernel: user.kernel, ramdisk: user.ramdisk, root_gb: 1 },
  })
  await api("POST", "/v1/ports", { node_uuid: node["uuid"], address: vm.mac })
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "manage" })
  await reach(spec.name, "manageable", 60_000)
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "provide" })
  await reach(spec.name, "available", 60_000)

  const deployStarted = performance.now()
  await api("PUT", `/v1/nodes/${spec.name}/states/provision`, { target: "active" })
  await reach(spec.name, "active", 900_000)
  const activeMs = performance.now() - deployStarted
  for (const deadline = Date.now() + 300_000; !readFileSync(vm.serialLog, "utf8").includes(user.marker);) {
    if (Date.now() > deadline) throw new Error("the deployed image did not print its marker")
    await sleep(250)
  }
  const bootedMs = performance.now() - deployStarted

  const history = (await api("GET", `/v1/nodes/${spec.name}/history/detail`))["history"] as ReadonlyArray<Doc>
  const at = (e: Doc | undefined, what: string) => {
    if (e === undefined) throw new Error(`no ${what} in the node's history`)
    return Date.parse(e["created_at"])
  }
  const from = history.map((e) => e["type"]).lastIndexOf("DeployRequested")
  const deploy = history.slice(from)
  const poweredOn = at(deploy.find((e) => e["type"] === "PowerStateChanged"), "power on")
  const calledBack = at(deploy.find((e) => e["type"] === "IscsiReady"), "call-back")
  const written = deploy.find((e) => e["type"] === "ImageWritten")
  if (written === undefined) throw new Error("no ImageWritten in the node's history")
  const bytes = Number(written["data"]["bytesWritten"])
  say("VM power on -> ramdisk call-back (pass_deploy_info)", seconds(calledBack - poweredOn))
  say(`deploy of a ${imageMib} MiB image: request -> active`, seconds(activeMs))
  say(`deploy of a ${imageMib} MiB image: request -> its marker on the console`, seconds(bootedMs))
  say("image write into the VM (tgtd in the ramdisk, TCG)", `${(bytes / MiB / (written["duration_ms"] / 1000)).toFixed(1)} MiB/s ` +
    `(${(bytes / MiB).toFixed(0)} MiB in ${seconds(written["duration_ms"])})`)
} finally {
  await cleanUp()
}
