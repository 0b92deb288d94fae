// A VM's power as the Redfish emulator drives it: through the same chassis control program that
// ipmi_sim runs for that VM (src/adapters/vm/chassis-control.ts), the one launcher that starts and
// stops its QEMU. Both BMC front ends then act on one machine with one power state (its pid file)
// and one boot device file: never two QEMUs.
import { execFile } from "node:child_process"
import type { EmulatedMachine } from "./machine.ts"

const control = (program: string, args: ReadonlyArray<string>) =>
  new Promise<string>((resolve, reject) =>
    // A soft off waits up to 30 s for the guest before it pulls the plug.
    execFile(program, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout.trim())
      else reject(new Error(`chassis control ${args.join(" ")}: ${stderr.trim() || error.message}`))
    }))

export const chassisControlMachine = (program: string, id: string, uuid: string, name = id): EmulatedMachine => ({
  id, uuid, name,
  power: async () => {
    const answer = await control(program, ["get", "power"])
    if (answer !== "power:1" && answer !== "power:0") throw new Error(`chassis control answered ${JSON.stringify(answer)} to get power`)
    return answer === "power:1" ? "On" : "Off"
  },
  act: async (action) => {
    const args = action === "on" ? ["set", "power", "1"] : action === "off" ? ["set", "power", "0"]
      : action === "soft-off" ? ["set", "shutdown", "1"] : ["set", "reset", "1"]
    await control(program, args)
  },
  // The program keeps one boot device for every start (pxe, cdrom or the disk), as ipmi_sim's bootdev does.
  bootFrom: async (device) => { await control(program, ["set", "boot", device === "disk" ? "default" : device]) },
  // The virtual CD's ISO becomes the VM's CD-ROM at its next start.
  media: async (iso) => { await control(program, ["set", "media", iso ?? "none"]) },
})
