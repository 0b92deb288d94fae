// The program ipmi_sim runs for each chassis request of one VM (lan.conf `chassis_control`): it
// owns power (starting and stopping QEMU itself) and the boot device, which it keeps in a file so
// that the choice holds across power off/on and reset. Protocol, one request per run:
//   get power -> "power:1|0"      get boot -> "boot:pxe|default"
//   set power 1|0                 set reset 1 (restart with the current boot device; repeats within 5 s are one)
//   set boot pxe|cdrom|default    set shutdown 1 (soft off: ACPI power button, then off after a grace period)
//   set media PATH|none           (the ISO the VM has as its CD-ROM from its next start: the Redfish emulator's virtual CD)
import { qemuArgv, type VmSpec } from "./qemu-argv.ts"

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
const line = (argv: ReadonlyArray<string>) => argv.map(quote).join(" ")

export interface ChassisFiles {
  /** Holds "pxe", "cdrom" or "default". */
  readonly bootFile: string
  /** Holds the path of the ISO in the VM's CD-ROM, when one is inserted; default `<bootFile>.media`. */
  readonly mediaFile?: string
  /** One line per change request and per QEMU start (with its boot device), for tests and the curious. */
  readonly powerLog: string
}

export const chassisControlScript = (vm: VmSpec, files: ChassisFiles): string => `#!/bin/sh
# Written by ironledger: chassis control of VM ${vm.name} for ipmi_sim.
PIDFILE=${quote(vm.pidFile)}
BOOTFILE=${quote(files.bootFile)}
MEDIAFILE=${quote(files.mediaFile ?? `${files.bootFile}.media`)}
running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
boot() { cat "$BOOTFILE" 2>/dev/null || echo default; }
start() {
  running && return 0
  rm -f "$PIDFILE"
  echo "$(date -u +%FT%TZ) start $(boot)$([ -s "$MEDIAFILE" ] && echo ' cd-inserted')" >> ${quote(files.powerLog)}
  set --
  [ -s "$MEDIAFILE" ] && set -- -drive "file=$(cat "$MEDIAFILE"),media=cdrom,readonly=on,format=raw"
  case "$(boot)" in
    pxe) ${line(qemuArgv(vm, "pxe"))} "$@" ;;
    cdrom) ${line(qemuArgv(vm, "cdrom"))} "$@" ;;
    *) ${line(qemuArgv(vm, "disk"))} "$@" ;;
  esac
}
stop() {
  running || return 0
  pid=$(cat "$PIDFILE")
  kill "$pid"
  n=0; while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  kill -9 "$pid" 2>/dev/null
  rm -f "$PIDFILE"
}
soft_off() {
  running || return 0
  # The ACPI power button, pressed through QEMU's QMP socket.
  timeout 2 python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(4096)
for c in (b"{\\"execute\\":\\"qmp_capabilities\\"}", b"{\\"execute\\":\\"system_powerdown\\"}"): s.sendall(c); s.recv(4096)' ${quote(vm.qmpSocket)} >/dev/null 2>&1
  n=0; while running && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
  stop
}
[ "$1" = set ] && echo "$(date -u +%FT%TZ) request $*" >> ${quote(files.powerLog)}
case "$1 $2" in
  "get power") if running; then echo power:1; else echo power:0; fi ;;
  "get boot") case "$(boot)" in pxe|cdrom) echo "boot:$(boot)" ;; *) echo boot:default ;; esac ;;
  "set power") if [ "$3" = 1 ]; then start; else stop; fi ;;
  # ipmitool resends a request that is slow to answer, and ipmi_sim runs each copy: a reset of a
  # machine started under 5 s ago is such a copy (the firmware has not even run yet).
  "set reset") if running && [ $(( $(date +%s) - $(stat -c %Y "$PIDFILE") )) -lt 5 ]; then exit 0; fi; stop; start ;;
  "set shutdown") soft_off ;;
  "set boot") case "$3" in pxe|cdrom|default) echo "$3" > "$BOOTFILE" ;; *) exit 1 ;; esac ;;
  "set media") case "$3" in none) rm -f "$MEDIAFILE" ;; /*) printf '%s\n' "$3" > "$MEDIAFILE" ;; *) exit 1 ;; esac ;;
  *) exit 1 ;;
esac
`
