# The machine's inventory for an inspection (ADR 0058), sourced by the agent, busybox only: CPUs
# from /proc/cpuinfo, memory from DMI (the installed modules, SMBIOS type 17; the kernel's MemTotal
# leaves out what firmware and kernel keep), disks and NICs from /sys, vendor from DMI, boot mode
# from /sys/firmware/efi. Prints one JSON object in Ironic's inventory shape. Needs json_string.
# SYS and PROC name other roots (tests); ARCH the architecture (default: uname -m).

SYS=${SYS:-/sys} PROC=${PROC:-/proc}

# A file's first line, trimmed, or nothing.
sys_text() { [ -r "$1" ] && head -n 1 "$1" 2>/dev/null | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'; }
# A file's first line as a JSON string, or null.
json_text() { v=$(sys_text "$1"); if [ -n "$v" ]; then printf '%s' "$v" | json_string; else printf null; fi; }

# Little-endian unsigned integer of $3 bytes at offset $2 of file $1.
le_uint() { od -An -tu1 -j "$2" -N "$3" "$1" 2>/dev/null | awk '{ for (i = NF; i >= 1; i--) v = v * 256 + $i } END { printf "%.0f", v }'; }

# MiB of memory the DMI memory devices (type 17) hold; 0 when the firmware lists none.
dmi_memory_mb() {
  total=0
  for e in "$SYS"/firmware/dmi/entries/17-*; do
    [ -r "$e/raw" ] || continue
    size=$(le_uint "$e/raw" 12 2)
    case "$size" in
      0|65535) continue ;;                                   # empty slot, unknown
      32767) size=$(le_uint "$e/raw" 28 4) ;;                # extended size, in MiB
      *) [ $((size & 32768)) -ne 0 ] && size=$(((size & 32767) / 1024)) ;;   # KiB granularity
    esac
    total=$((total + size))
  done
  echo "$total"
}

# Without DMI: the memory blocks the kernel brought online (still more than MemTotal).
memory_mb() {
  m=$(dmi_memory_mb)
  if [ "$m" -eq 0 ] && [ -r "$SYS/devices/system/memory/block_size_bytes" ]; then
    block=$((0x$(cat "$SYS/devices/system/memory/block_size_bytes")))
    n=$(cat "$SYS"/devices/system/memory/memory*/online 2>/dev/null | grep -c '^1$')
    m=$((block / 1048576 * n))
  fi
  [ "$m" -eq 0 ] && m=$(awk '/^MemTotal:/ { printf "%d", ($2 + 1023) / 1024 }' "$PROC/meminfo")
  echo "$m"
}

inventory_disks() {
  sep=
  for dev in "$SYS"/block/*; do
    d=${dev##*/}
    case "$d" in loop*|ram*|sr*|fd*|md*|dm-*|zram*|nbd*) continue ;; esac
    [ -r "$dev/size" ] || continue
    serial=$dev/serial; [ -r "$serial" ] || serial=$dev/device/serial
    wwn=$dev/wwid; [ -r "$wwn" ] || wwn=$dev/device/wwid
    rot=$(sys_text "$dev/queue/rotational")
    printf '%s{"name":"%s","size":%s,"model":%s,"serial":%s,"wwn":%s,"vendor":%s,"rotational":%s}' "$sep" "$d" \
      "$(($(cat "$dev/size") * 512))" "$(json_text "$dev/device/model")" "$(json_text "$serial")" "$(json_text "$wwn")" \
      "$(json_text "$dev/device/vendor")" "$([ "$rot" = 1 ] && echo true || echo false)"
    sep=,
  done
}

inventory_interfaces() {
  sep=
  for dev in "$SYS"/class/net/*; do
    n=${dev##*/}
    [ "$n" = lo ] && continue
    mac=$(sys_text "$dev/address")
    case "$mac" in ??:??:??:??:??:??) ;; *) continue ;; esac
    [ "$mac" = 00:00:00:00:00:00 ] && continue
    printf '%s{"name":%s,"mac_address":"%s","has_carrier":%s}' "$sep" "$(printf '%s' "$n" | json_string)" "$mac" \
      "$([ "$(sys_text "$dev/carrier")" = 1 ] && echo true || echo false)"
    sep=,
  done
}

# The BMC's IPv4 address from its LAN settings, read in-band through the kernel's IPMI driver
# (ipmitool over /dev/ipmi0; init loads ipmi_si and ipmi_devintf), as Ironic's agent reports
# bmc_address (ADR 0090). Nothing without a BMC or an address. IPMITOOL names another ipmitool
# command line (tests reach a BMC over LAN with it).
bmc_address() {
  [ -n "${IPMITOOL:-}" ] || [ -e /dev/ipmi0 ] || [ -e /dev/ipmi/0 ] || [ -e /dev/ipmidev/0 ] || return 0
  for ch in 1 2 3 8; do
    a=$(timeout 10 ${IPMITOOL:-ipmitool} lan print $ch 2>/dev/null |
      sed -n 's/^IP Address[[:space:]]*:[[:space:]]*\([0-9.]*\)[[:space:]]*$/\1/p' | head -n 1)
    case "$a" in ""|0.0.0.0) continue ;; esac
    echo "$a"
    return 0
  done
}

inventory_json() {
  cpus=$(grep -c '^processor' "$PROC/cpuinfo")
  model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' "$PROC/cpuinfo" | head -n 1 | json_string)
  dmi=$SYS/class/dmi/id
  boot=bios; [ -d "$SYS/firmware/efi" ] && boot=uefi
  printf '{"cpu":{"count":%s,"architecture":"%s","model_name":%s},' "$cpus" "${ARCH:-$(uname -m)}" "$model"
  printf '"memory":{"physical_mb":%s,"total":%s},' "$(memory_mb)" "$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' "$PROC/meminfo")"
  printf '"disks":[%s],"interfaces":[%s],' "$(inventory_disks)" "$(inventory_interfaces)"
  bmc=$(bmc_address)
  printf '"bmc_address":%s,' "$(if [ -n "$bmc" ]; then printf '"%s"' "$bmc"; else printf null; fi)"
  printf '"system_vendor":{"manufacturer":%s,"product_name":%s,"serial_number":%s},' \
    "$(json_text "$dmi/sys_vendor")" "$(json_text "$dmi/product_name")" "$(json_text "$dmi/product_serial")"
  # BOOTIF (pxelinux's ipappend 2) is 01-<mac with dashes>.
  pxe=$(printf '%s' "${BOOTIF:-}" | sed -n 's/^01-//; s/-/:/gp' | tr 'A-F' 'a-f')
  printf '"boot":{"current_boot_mode":"%s","pxe_interface":%s}}\n' "$boot" "$(if [ -n "$pxe" ]; then printf '"%s"' "$pxe"; else printf null; fi)"
}
