// The process that runs inside the rack's namespace (started by ./outside.ts with `ip netns exec`):
// starts the VM service from the JSON options in argv[2], prints one JSON line {"ready":...} on
// stdout (notices go to stderr), and stops it all on SIGTERM or SIGINT.
import { startVmService, type VmServiceOptions } from "./service.ts"

const options = JSON.parse(process.argv[2] ?? "null") as Omit<VmServiceOptions, "say"> | null
if (options === null || typeof options !== "object") {
  process.stderr.write("usage: inside.ts '<VmServiceOptions as JSON>'\n")
  process.exit(2)
}
let stopping = false
const say = (line: string) => process.stderr.write(`${line}\n`)
startVmService({ ...options, say }).then(
  (running) => {
    const stop = () => {
      if (stopping) return
      stopping = true
      running.close().then(() => process.exit(0), (e: Error) => { say(`stopping: ${e.message}`); process.exit(1) })
    }
    process.once("SIGTERM", stop)
    process.once("SIGINT", stop)
    process.stdout.write(JSON.stringify({ ready: { url: running.url, vms: running.vms, redfish: running.redfish } }) + "\n")
  },
  (e: Error) => { say(`the VM service did not start: ${e.stack ?? e.message}`); process.exit(1) },
)
