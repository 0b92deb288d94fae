// The QEMU command line of one rack VM. Firmware boots it: no -kernel/-initrd, and its only
// network is the tap on the rack's bridge (no user-mode networking with its own DHCP/TFTP).
export type BootDevice = "pxe" | "disk" | "cdrom"
export type Firmware = { readonly kind: "bios" } | { readonly kind: "uefi"; readonly code: string; readonly vars: string }

export interface VmSpec {
  readonly name: string
  readonly memoryMb: number
  readonly disk: string
  /** More disks after the first (vdb, vdc...: a software RAID's members), never booted from. */
  readonly extraDisks?: ReadonlyArray<string>
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
  "-netdev", `tap,id=n0,ifname=${vm.tap},script=no,downscript=no`,
  ...(vm.firmware.kind === "bios" ? biosBoot(vm, boot) : uefiBoot(vm, boot)),
  "-chardev", `socket,id=ipmi0,host=127.0.0.1,port=${vm.bmcPort},reconnect=10`,
  "-device", "ipmi-bmc-extern,id=bmc0,chardev=ipmi0",
  "-device", "isa-ipmi-kcs,bmc=bmc0",
]

// SeaBIOS follows -boot order. The order holds across a guest reboot and `chassis power reset`
// (which restarts QEMU with it).
const biosBoot = (vm: VmSpec, boot: BootDevice) => [
  "-drive", `file=${vm.disk},format=raw,if=virtio,cache=writeback`,
  ...(vm.extraDisks ?? []).flatMap((d) => ["-drive", `file=${d},format=raw,if=virtio,cache=writeback`]),
  "-device", `virtio-net-pci,netdev=n0,mac=${vm.mac}`,
  "-boot", `order=${boot === "pxe" ? "nc" : boot === "cdrom" ? "dc" : "c"}`,
]

// OVMF ignores -boot order and follows the devices' bootindex; its variables (boot entries) live
// in the VM's own copy of the vars file. With pxe the disk comes second: a loader that gives up
// (syslinux.efi's `localboot`) hands over to the next boot entry, the disk. Every network boot
// entry before the disk costs a DHCP round under TCG, so the NIC has only OVMF's own PXEv4 (and
// HTTPv4, which cannot be turned off without IPv4): no iPXE ROM beside it, no IPv6 PXE or HTTP.
const uefiBoot = (vm: VmSpec, boot: BootDevice) => {
  const firmware = vm.firmware as Extract<Firmware, { kind: "uefi" }>
  return [
    "-drive", `if=pflash,format=raw,readonly=on,file=${firmware.code}`,
    "-drive", `if=pflash,format=raw,file=${firmware.vars}`,
    "-fw_cfg", "name=opt/org.tianocore/IPv6PXESupport,string=no",
    "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=no",
    "-drive", `file=${vm.disk},format=raw,if=none,id=disk0,cache=writeback`,
    "-device", `virtio-blk-pci,drive=disk0,bootindex=${boot === "pxe" ? 2 : 1}`,
    ...(vm.extraDisks ?? []).flatMap((d, i) => ["-drive", `file=${d},format=raw,if=none,id=disk${i + 1},cache=writeback`, "-device", `virtio-blk-pci,drive=disk${i + 1}`]),
    "-device", `virtio-net-pci,netdev=n0,mac=${vm.mac},romfile=${boot === "pxe" ? ",bootindex=1" : ""}`,
  ]
}
