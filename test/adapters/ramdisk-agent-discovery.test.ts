// Discovery's pieces against the real programs (ADR 0090): the agent's bmc_address (inventory.sh,
// under busybox's sh) reads the address through real ipmitool from a real ipmi_sim configured as
// the VM rack configures its BMCs (vmLanConf + vmLanConfigScript's lan_config_program), over LAN
// here where the ramdisk goes through /dev/ipmi0; the inventory carrying it is what the service
// takes; and the default PXE config boots the discovery mode for MACs without a link.
import { execFileSync, spawn, type ChildProcess } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { after, before, test } from "node:test"
import assert from "node:assert/strict"
import * as E from "fp-ts/lib/Either.js"
import { parseInventory } from "../../src/application/inspection/inventory.ts"
import { plausibleBmcAddress } from "../../src/application/discovery/settings.ts"
import { bmcEmu } from "../../src/adapters/sim/bmc/config-files.ts"
import { freeUdpPort } from "../../src/adapters/sim/bmc/free-port.ts"
import { vmLanConf, vmLanConfigScript } from "../../src/adapters/vm/bmc-files.ts"
import { renderDiscoveryConfig, removeDiscoveryBoot, writeDiscoveryBoot } from "../../src/adapters/pxe/discovery-boot.ts"
import { parsePxeConfig } from "../../src/adapters/pxe/pxelinux-config.ts"

const agentDir = resolve(import.meta.dirname, "../../src/adapters/ramdisk/agent")
const work = mkdtempSync(join(tmpdir(), "ironledger-agent-discovery-"))
const which = (p: string) => { try { return execFileSync("sh", ["-c", `command -v ${p}`], { encoding: "utf8" }).trim() } catch { return "" } }
const skip = which("ipmi_sim") === "" || which("ipmitool") === "" || which("busybox") === "" ? "needs ipmi_sim, ipmitool and busybox" : false
let bmc: ChildProcess | null = null
let port = 0

before(async () => {
  if (skip) return
  const busybox = which("busybox")
  mkdirSync(join(work, "bin"))
  for (const applet of execFileSync(busybox, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => /^[a-z0-9_.-]+$/.test(a))) {
    symlinkSync(busybox, join(work, "bin", applet))
  }
  symlinkSync(which("ipmitool"), join(work, "bin", "ipmitool"))
  port = await freeUdpPort()
  const program = join(work, "lan-config")
  writeFileSync(program, vmLanConfigScript("10.213.77.1", "02:54:00:7e:4d:01"), { mode: 0o700 })
  writeFileSync(join(work, "lan.conf"), vmLanConf({
    name: "disc", port, vmPort: await freeUdpPort(), username: "admin", password: "pw-disc", chassisControl: "/bin/true",
    lanConfigProgram: `${program} eth0`,
  }))
  writeFileSync(join(work, "bmc.emu"), bmcEmu)
  mkdirSync(join(work, "state"))
  bmc = spawn("ipmi_sim", ["-c", join(work, "lan.conf"), "-f", join(work, "bmc.emu"), "-s", join(work, "state"), "-n"], { stdio: "ignore" })
  for (let i = 0; i < 50; i++) {
    try { execFileSync("ipmitool", ["-I", "lanplus", "-C", "3", "-H", "127.0.0.1", "-p", String(port), "-U", "admin", "-P", "pw-disc", "mc", "info"], { stdio: "ignore" }); return }
    catch { await new Promise((r) => setTimeout(r, 100)) }
  }
  throw new Error("ipmi_sim did not answer")
})
after(() => {
  bmc?.kill("SIGKILL")
  rmSync(work, { recursive: true, force: true })
})

const agentSh = (script: string, env: Record<string, string>) => {
  const agent = readFileSync(join(agentDir, "agent.sh"), "utf8")
  const jsonString = agent.slice(agent.indexOf("json_string() {"), agent.indexOf("\n}\n", agent.indexOf("json_string() {")) + 3)
  return execFileSync(join(work, "bin", "sh"), ["-c", [jsonString, `. ${join(agentDir, "inventory.sh")}`, script].join("\n")], {
    encoding: "utf8", env: { PATH: join(work, "bin"), ...env },
  })
}

test("the agent reads the BMC's address with ipmitool, as the BMC's LAN settings give it", { skip }, () => {
  const ipmitool = `ipmitool -I lanplus -C 3 -H 127.0.0.1 -p ${port} -U admin -P pw-disc`
  assert.equal(agentSh("bmc_address", { IPMITOOL: ipmitool }).trim(), "10.213.77.1")
  // In the inventory the service takes; an unreachable BMC is no address, not a failure.
  const inv = JSON.parse(agentSh("inventory_json", { IPMITOOL: ipmitool, SYS: join(work, "nosys"), PROC: "/proc", ARCH: "x86_64" }))
  assert.equal(inv.bmc_address, "10.213.77.1")
  assert.equal(plausibleBmcAddress(inv.bmc_address), "10.213.77.1")
  assert.ok(E.isRight(parseInventory({ ...inv, interfaces: [{ name: "eth0", mac_address: "52:54:00:7e:4d:01" }] })))
  assert.equal(agentSh("bmc_address", { IPMITOOL: `ipmitool -I lanplus -C 3 -H 127.0.0.1 -p ${port} -U admin -P wrong -N 1 -R 1` }).trim(), "")
  assert.equal(agentSh("bmc_address", {}).trim(), "", "no /dev/ipmi0 here and no IPMITOOL: no BMC")
})

test("the default PXE config boots the deploy ramdisk in discovery mode, without any key, and goes away", { skip }, async () => {
  const root = join(work, "tftp")
  const kernel = join(work, "k"), ramdisk = join(work, "r")
  writeFileSync(kernel, "kernel"); writeFileSync(ramdisk, "ramdisk")
  await writeDiscoveryBoot(root, { kernel, ramdisk }, "http://10.213.77.1:6385", "console=ttyS0 root_device_min_gib=2")
  const text = readFileSync(join(root, "pxelinux.cfg", "default"), "utf8")
  assert.match(text, /^default discover$/m)
  assert.match(text, /^append initrd=discovery\/deploy_ramdisk ironledger_mode=discover ironic_api_url=http:\/\/10\.213\.77\.1:6385 text console=ttyS0 root_device_min_gib=2$/m)
  assert.doesNotMatch(text, /deployment_key|node_uuid/)
  assert.equal(readFileSync(join(root, "discovery", "deploy_kernel"), "utf8"), "kernel")
  // It is not a node's config: the label-switch code refuses to read it as one.
  assert.ok(E.isLeft(parsePxeConfig(text)))
  assert.throws(() => renderDiscoveryConfig("http://x/ y"), /kernel argument/)
  // With the ipmitool add-on, pxelinux loads it as a second initramfs after the first.
  const addon = join(work, "a")
  writeFileSync(addon, "addon")
  await writeDiscoveryBoot(root, { kernel, ramdisk, addon }, "http://10.213.77.1:6385")
  assert.match(readFileSync(join(root, "pxelinux.cfg", "default"), "utf8"), /^append initrd=discovery\/deploy_ramdisk,discovery\/ipmi_addon ironledger_mode=discover /m)
  assert.equal(readFileSync(join(root, "discovery", "ipmi_addon"), "utf8"), "addon")
  await removeDiscoveryBoot(root)
  assert.throws(() => readFileSync(join(root, "pxelinux.cfg", "default")))
  void dirname
})
