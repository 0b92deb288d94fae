// The QEMU command line of one rack VM. Firmware boots it: no -kernel/-initrd, and its only
// network is the tap on the rack's bridge (no user-mode networking with its own DHCP/TFTP).
export type BootDevice = "pxe" | "disk"
export type Firmware = { readonly kind: "bios" } | { readonly kind: "uefi"; readonly code: string; readonly vars: string }

export interface VmSpec {
  readonly name: string
  readonly memoryMb: number
  readonly disk: string
  readonly tap: string
  readonly mac: string
  readonly serialLog: string
  /** TCP port of the BMC's VM interface (ipmi_sim's `serial ... codec VM`), on the namespace's loopback. */
  readonly bmcPort: number
  /**
   * The serial port as a TCP server on the namespace's loopback, for the BMC's SOL (ipmi_sim's
   * `sol "tcp:..."`), its output still kept in serialLog; absent: the serial port is the log file only.
   */
  readonly solPort?: number
  readonly pidFile: string
  readonly qmpSocket: string
  readonly firmware: Firmware
  readonly qemu?: string
}

export const qemuArgv = (vm: VmSpec, boot: BootDevice): ReadonlyArray<string> => [
  vm.qemu ?? "qemu-system-x86_64",
  "-name", vm.name,
  // KVM hangs the iPXE boot on these machines; TCG is slower but dependable.
  "-accel", "tcg",
  "-m", String(vm.memoryMb),
  "-display", "none",
  "-daemonize", "-pidfile", vm.pidFile,
  "-qmp", `unix:${vm.qmpSocket},server=on,wait=off`,
  "-chardev", vm.solPort === undefined
    ? `file,id=console,path=${vm.serialLog},append=on`
    : `socket,id=console,host=127.0.0.1,port=${vm.solPort},server=on,wait=off,logfile=${vm.serialLog},logappend=on`,
  "-serial", "chardev:console",
  "-drive", `file=${vm.disk},format=raw,if=virtio,cache=writeback`,
  "-netdev", `tap,id=n0,ifname=${vm.tap},script=no,downscript=no`,
  "-device", `virtio-net-pci,netdev=n0,mac=${vm.mac}`,
  // The order holds across a guest reboot and `chassis power reset` (which restarts QEMU with it).
  "-boot", `order=${boot === "pxe" ? "nc" : "c"}`,
  "-chardev", `socket,id=ipmi0,host=127.0.0.1,port=${vm.bmcPort},reconnect=10`,
  "-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
  "-device", "isa-ipmi-kcs,bmc=bmc0",
  ...(vm.firmware.kind === "uefi"
    ? ["-drive", `if=pflash,format=raw,readonly=on,file=${vm.firmware.code}`, "-drive", `if=pflash,format=raw,file=${vm.firmware.vars}`]
    : []),
]
