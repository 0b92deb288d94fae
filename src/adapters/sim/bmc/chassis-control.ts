// The program ipmi_sim runs for each chassis request of a simulated machine (lan.conf
// `chassis_control`; the VMs' counterpart is src/adapters/vm/chassis-control.ts). It owns power (it
// starts the machine script in the background and stops it with SIGTERM, then SIGKILL) and the boot
// device, kept in a file that outlives power off/on and reset. The machine reads that file at each
// boot (IRONLEDGER_BOOT_DEVICE_FILE) and boots accordingly: "pxe" from the network, "default" (what
// `chassis bootdev disk` sends) from its disk, no file: the firmware's order (network, then disk).
//
// ipmi_sim waits for the program before it answers the request, so every answer is immediate: power
// off and reset finish in the background. ipmi_sim passes no persistence flag (`chassis bootdev
// pxe` and `... options=persistent` both arrive as `set boot pxe`), so every choice holds until the
// next one: what options=persistent asks for.
//
// A file `refuse-boot-device` in the BMC's directory makes it refuse boot device requests (exit 1:
// ipmitool prints "Set Chassis Boot Parameter 5 failed: Unspecified error"), as a BMC that cannot
// do it does: a fault knob for tests.

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

export interface SimChassisFiles {
  /** The BMC's own directory (the refuse-boot-device knob lives there). */
  readonly dir: string
  /** The script that becomes the machine (it records its boot, then execs the machine). */
  readonly machineScript: string
  readonly pidFile: string
  /** Holds "pxe" or "default"; may live beside the machine, so that it outlasts this BMC. */
  readonly bootFile: string
  /** One line per request that changes something and per start (with its boot device). */
  readonly log: string
  /** The machine's stdout and stderr. */
  readonly output: string
  /** Seconds between SIGTERM and SIGKILL at power off. */
  readonly killWaitSec: number
}

export const BOOT_DEVICE_FILE_ENV = "IRONLEDGER_BOOT_DEVICE_FILE"

export const simChassisControlScript = (name: string, f: SimChassisFiles): string => `#!/bin/sh
# Written by ironledger: chassis control of simulated machine ${name} for ipmi_sim.
PIDFILE=${quote(f.pidFile)}
BOOTFILE=${quote(f.bootFile)}
LOG=${quote(f.log)}
# ipmi_sim answers nothing else while this runs: the questions fork no process (read is built in).
# A zombie answers kill -0, so the process state is read instead.
alive() { { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1; s=\${s##*) }; [ "\${s%% *}" != Z ]; }
running() { { read -r pid < "$PIDFILE"; } 2>/dev/null && [ -n "$pid" ] && alive "$pid"; }
boot() { { read -r b < "$BOOTFILE"; } 2>/dev/null && echo "$b" || echo default; }
note() { echo "$(date -u +%FT%TZ) $*" >> "$LOG"; }
start() {
  running && return 0
  note "start $([ -e "$BOOTFILE" ] && boot || echo firmware-order)"
  ${BOOT_DEVICE_FILE_ENV}="$BOOTFILE" ${quote(f.machineScript)} </dev/null >>${quote(f.output)} 2>&1 &
  # Replaced, never rewritten in place: a reader (a power query, a test) would see it empty. The
  # temporary file is this request's own.
  echo $! > "$PIDFILE.$$" && mv -f "$PIDFILE.$$" "$PIDFILE"
}
# SIGTERM is the machine's power button; SIGKILL follows if it is still running after kill_wait.
stop_now() {
  running || return 0
  kill -TERM "$pid" 2>/dev/null
  n=0; while alive "$pid" && [ $n -lt ${f.killWaitSec * 10} ]; do sleep 0.1; n=$((n + 1)); done
  kill -KILL "$pid" 2>/dev/null
  while alive "$pid"; do sleep 0.05; done
}
later() { ( "$@" ) </dev/null >/dev/null 2>&1 & }
[ "$1" = set ] && note "request $*"
case "$1 $2" in
  "get power") if running; then echo power:1; else echo power:0; fi ;;
  "get boot") if [ "$(boot)" = pxe ]; then echo boot:pxe; else echo boot:default; fi ;;
  "set power") if [ "$3" = 1 ]; then start; else later stop_now; fi ;;
  "set shutdown") later stop_now ;;
  "set reset") if running; then later eval 'stop_now; start'; fi ;;
  "set boot")
    if [ -e ${quote(`${f.dir}/refuse-boot-device`)} ]; then note "refused boot $3"; echo "boot device refused" >&2; exit 1; fi
    case "$3" in pxe|default) echo "$3" > "$BOOTFILE" ;; *) exit 1 ;; esac ;;
  *) exit 1 ;;
esac
`
