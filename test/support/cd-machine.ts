// A machine behind the Redfish BMC emulator whose firmware boots its virtual CD when told to, as
// ISOLINUX would: it reads the ISO's isolinux.cfg, takes its default label and reads the kernel
// and initrd that label names. Each power-on or reset is recorded as a boot.
import { execFile } from "node:child_process"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { promisify } from "node:util"
import assert from "node:assert/strict"
import { memoryMachine, type EmulatedMachine } from "../../src/adapters/sim/redfish/index.ts"
import { parsePxeConfig, bootLabel, kernelArgs } from "../../src/adapters/sim/machine/pxelinux.ts"

const run = promisify(execFile)

/** Reads a file out of an ISO9660 image (Rock Ridge names), as the machine's firmware would. */
export const isoFile = async (iso: string, path: string) => (await run("isoinfo", ["-R", "-i", iso, "-x", path], { encoding: "buffer", maxBuffer: 1 << 26 })).stdout

export interface CdBoot {
  readonly device: string
  /** From the CD only: the default label's command line, the config, the whole ISO, kernel and initrd. */
  readonly args?: ReadonlyMap<string, string>
  readonly cfg?: string
  readonly iso?: Buffer
  readonly kernel?: Buffer
  readonly initrd?: Buffer
}

/** `onCdBoot` runs after each boot from the CD, as the booted kernel would start its work. */
export const cdMachine = (id: string, onCdBoot: (args: ReadonlyMap<string, string>) => void = () => {}) => {
  const base = memoryMachine(id, randomUUID())
  let device = "disk"
  let iso: string | null = null
  const booted: CdBoot[] = []
  const boot = async () => {
    if (device !== "cdrom" || iso === null) { booted.push({ device }); return }
    const cfg = (await isoFile(iso, "/isolinux.cfg")).toString("utf8")
    const label = bootLabel(parsePxeConfig(cfg))
    assert.ok(typeof label !== "string", String(label))
    const args = kernelArgs(label.append)
    booted.push({
      device, args, cfg, iso: readFileSync(iso),
      kernel: await isoFile(iso, label.kernel!), initrd: await isoFile(iso, `/${args.get("initrd")!.replace(/^\//, "")}`),
    })
    onCdBoot(args)
  }
  const machine: EmulatedMachine = {
    ...base,
    act: async (action) => {
      const wasOn = (await base.power()) === "On"
      await base.act(action)
      if ((action === "on" && !wasOn) || action === "reset") await boot()
    },
    bootFrom: async (d) => { device = d },
    media: async (path) => { iso = path },
  }
  return { machine, booted, device: () => device, iso: () => iso }
}
