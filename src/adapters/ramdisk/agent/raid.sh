# Software RAID (ADR 0101), sourced by the agent: raid.create_configuration builds one md array
# across every local disk with mdadm (metadata 1.2: the superblock and data offset keep the
# members' first MiB free of the array's partition table, so nothing but md shows the partitions);
# raid.delete_configuration stops every array and wipes its members' superblocks. A deploy's ramdisk
# assembles what exists and installs to the array (the iSCSI export is the md device).

raid_arrays() { for md in /sys/block/md*; do [ -e "$md/md/array_state" ] && echo "${md##*/}"; done; }

# Assembles arrays found on the disks (a new boot knows none); quiet when there are none.
raid_assemble() { mdadm --assemble --scan --run >/run/mdadm.out 2>&1; return 0; }

raid_stop_all() {
  # A cleaning's ramdisk exports its install disk like a deploy's (it can not tell them apart before
  # its first step): an exported array is held open by tgtd and would not stop (ADR 0130).
  case "$DISK" in md*) stop_export >/dev/null 2>&1 ;; esac
  for md in $(raid_arrays); do
    members=$(ls "/sys/block/$md/slaves" 2>/dev/null)
    mdadm --stop "/dev/$md" >/run/mdadm.out 2>&1 || { cat /run/mdadm.out >&2; echo "mdadm --stop /dev/$md failed" >&2; return 1; }
    for m in $members; do mdadm --zero-superblock "/dev/$m" >/dev/null 2>&1; done
  done
  # Superblocks of arrays that were never assembled.
  for d in $(list_disks | cut -d' ' -f1); do mdadm --zero-superblock "/dev/$d" >/dev/null 2>&1; done
  return 0
}

# (volume, not name: the sourcing agent's loop keeps the step's name in $name; sh has no locals)
step_raid_create() {
  err=$(json_value raid_error "$2")
  [ -z "$err" ] || { echo "$err" >&2; return 1; }
  level=$(json_value raid_level "$2") size=$(json_value raid_size_mib "$2") volume=$(json_value raid_volume_name "$2")
  case "$level" in 0|1) ;; *) echo "RAID level \"$level\" is not built by the software RAID (0, 1)" >&2; return 1 ;; esac
  raid_assemble
  [ "$(json_value delete_existing "$2")" = false ] && [ -n "$(raid_arrays)" ] &&
    { echo "arrays exist ($(raid_arrays | tr '\n' ' ')) and delete_existing is false" >&2; return 1; }
  raid_stop_all || return 1
  disks=$(list_disks | cut -d' ' -f1 | sort | tr '\n' ' ' | sed 's/ $//') n=$(echo $disks | wc -w)
  [ "$level" = 1 ] && [ "$n" -lt 2 ] && { echo "RAID-1 needs at least 2 disks; this machine has $n ($disks)" >&2; return 1; }
  [ "$n" -ge 1 ] || { echo "no local disk" >&2; return 1; }
  devs= names=
  for d in $disks; do
    # Old partition tables and file systems at the start of a member must not outlive the array.
    dd if=/dev/zero of="/dev/$d" bs=1048576 count=4 conv=fsync 2>/dev/null
    devs="$devs /dev/$d" names="$names${names:+,}\"$d\""
  done
  sizearg=; [ "$size" = MAX ] || [ -z "$size" ] || sizearg="--size=$((size * 1024))"
  force=; [ "$n" = 1 ] && force=--force
  # --assume-clean: no initial resync of never-written blocks (minutes under emulation); what is
  # written afterwards reaches every member.
  mdadm --create /dev/md0 --run --metadata=1.2 --level="$level" --raid-devices="$n" --name="${volume:-root}" \
    --assume-clean $force $sizearg $devs >/run/mdadm.out 2>&1 || { tail -n 5 /run/mdadm.out >&2; echo "mdadm --create failed" >&2; return 1; }
  sectors=$(cat /sys/block/md0/size)
  echo "md0 (${volume:-root}): RAID-$level across $disks, $((sectors * 512)) bytes"
  echo "{\"raid_config\":{\"logical_disks\":[{\"raid_level\":\"$level\",\"size_gb\":$((sectors / 2097152)),\"controller\":\"software\",\"is_root_volume\":true,\"volume_name\":\"${volume:-root}\",\"physical_disks\":[$names],\"device\":\"/dev/md0\"}]},\"bytes\":$((sectors * 512))}"
}

step_raid_delete() {
  raid_assemble
  found=$(raid_arrays | wc -l)
  raid_stop_all || return 1
  echo "stopped $found md array(s) and wiped the members' superblocks"
  echo "{\"arrays\":$found}"
}
