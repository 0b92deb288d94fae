#!/bin/sh
# The ironledger ramdisk agent (protocol: ADR 0026). Reads its parameters from the kernel command
# line, brings up every NIC with DHCP, and runs one mode:
#   deploy, clean: export the install disk over iSCSI (CHAP), POST pass_deploy_info, run the
#                  in-band cleaning steps the service hands out (steps.sh), wait for "done" on
#                  the release port, stop the export, reboot;
#   rescue:        fetch the rescue password's hash with the key, start a console login, report
#                  ready (rescue.sh, ADR 0095);
#   inspect:       post the inventory (inventory.sh) and wait; deploy and clean offer it first too
#                  (ADR 0058): the service takes it only while the node waits for an inspection;
#   discover:      a machine no node knows posts its inventory to the discovery endpoint and
#                  waits (ADR 0090).
# Any failure is posted as pass_deploy_info's `error` with the tail of the log; it never hangs silently.
. /etc/ironledger/tgt.sh
. /etc/ironledger/steps.sh
. /etc/ironledger/inventory.sh
. /etc/ironledger/rescue.sh
. /etc/ironledger/burnin.sh
. /etc/ironledger/raid.sh
LOG=/run/ironledger-agent.log
log() { echo "ironledger-agent: $*"; }

API_URL= NODE= KEY= IQN= BOOTIF= MODE=deploy RELEASE_PORT=10000
HINT_NAME= HINT_SIZE= HINT_SERIAL= HINT_WWN= MIN_GIB=4
for word in $(cat /proc/cmdline); do
  case "$word" in
    ironic_api_url=*) API_URL=${word#*=} ;;
    node_uuid=*) NODE=${word#*=} ;;
    deployment_key=*) KEY=${word#*=} ;;
    iscsi_target_iqn=*) IQN=${word#*=} ;;
    BOOTIF=*) BOOTIF=${word#*=} ;;
    rescue_mode=1) MODE=rescue ;;
    ironledger_mode=*) MODE=${word#*=} ;;
    ironledger_release_port=*) RELEASE_PORT=${word#*=} ;;
    root_device_name=*) HINT_NAME=${word#*=} ;;
    root_device_size=*) HINT_SIZE=${word#*=} ;;
    root_device_serial=*) HINT_SERIAL=${word#*=} ;;
    root_device_wwn=*) HINT_WWN=${word#*=} ;;
    root_device_min_gib=*) MIN_GIB=${word#*=} ;;
  esac
done
ADDRESS=0.0.0.0

# A JSON string of stdin: escapes, control characters dropped, lines joined with \n.
json_string() {
  awk 'BEGIN { ORS = ""; print "\"" }
       { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, " "); gsub(/[\001-\037]/, "");
         print (NR > 1 ? "\\n" : "") $0 }
       END { print "\"" }'
}

# POSTs a body to pass_deploy_info until the API answers (any HTTP answer ends it) or 5 minutes pass.
post_deploy_info() {
  url="${API_URL%/}/v1/nodes/$NODE/vendor_passthru/pass_deploy_info"
  delay=1 waited=0
  while :; do
    if wget -q -O /run/answer --header 'Content-Type: application/json' \
        --header 'X-OpenStack-Ironic-API-Version: 1.78' --post-data "$1" "$url" 2>/run/wget.err; then
      log "pass_deploy_info accepted"
      return 0
    fi
    if grep -q 'server returned error' /run/wget.err; then
      log "pass_deploy_info answered: $(cat /run/wget.err)"
      return 1
    fi
    [ $waited -ge 300 ] && { log "the API at $API_URL cannot be reached: $(cat /run/wget.err)"; return 1; }
    sleep $delay; waited=$((waited + delay)); [ $delay -lt 8 ] && delay=$((delay * 2))
  done
}

# Reports the failure with the log's tail, then stays up (no reboot loop) until powered off.
fail() {
  log "FAILED: $*"
  stop_export >/dev/null 2>&1
  sleep 1   # let tee write the lines above to the log
  tail=$(tail -n 40 "$LOG" | tail -c 3000)
  error=$(printf '%s\n%s\n' "$*" "--- ramdisk log (tail) ---
$tail" | json_string)
  key=$(printf '%s' "$KEY" | json_string)
  post_deploy_info "{\"address\":\"$ADDRESS\",\"port\":\"3260\",\"iqn\":\"$IQN\",\"lun\":\"1\",\"key\":$key,\"error\":$error}"
  while :; do sleep 3600; done
}

bring_up_network() {
  for dev in /sys/class/net/*; do
    i=${dev##*/}
    [ "$i" = lo ] && continue
    ip link set "$i" up
    udhcpc -i "$i" -n -q -t 8 -T 2 -s /etc/ironledger/udhcpc.script >/dev/null 2>&1 &
  done
  ip link set lo up
  wait
  boot_mac=$(echo "${BOOTIF#01-}" | tr '-' ':' | tr 'A-F' 'a-f')
  for dev in /sys/class/net/*; do
    i=${dev##*/}
    [ -e "/run/net/$i" ] || continue
    if [ "$ADDRESS" = 0.0.0.0 ] || [ "$(cat "$dev/address")" = "$boot_mac" ]; then ADDRESS=$(cat "/run/net/$i"); fi
  done
  [ "$ADDRESS" != 0.0.0.0 ] || fail "no DHCP lease on any interface ($(ls /sys/class/net | tr '\n' ' '))"
  log "address $ADDRESS"
}

# Prints "name gib serial wwn" for each disk the kernel sees.
list_disks() {
  for dev in /sys/block/*; do
    d=${dev##*/}
    case "$d" in loop*|ram*|sr*|fd*|md*|dm-*|zram*|nbd*) continue ;; esac
    gib=$(( $(cat "$dev/size") / 2097152 ))
    serial=$(cat "$dev/serial" 2>/dev/null || cat "$dev/device/serial" 2>/dev/null)
    wwn=$(cat "$dev/wwid" 2>/dev/null || cat "$dev/device/wwid" 2>/dev/null)
    echo "$d $gib ${serial:--} ${wwn:--}" | tr -s ' \t' '  '
  done
}

strip_wwn() { echo "$1" | sed -e 's/^naa\.//' -e 's/^eui\.//' -e 's/^0x//' | tr 'A-F' 'a-f'; }

# The smallest disk that matches every hint given and has at least MIN_GIB.
pick_disk() {
  list_disks | while read -r d gib serial wwn; do
    [ -z "$HINT_NAME" ] || [ "$HINT_NAME" = "$d" ] || [ "$HINT_NAME" = "/dev/$d" ] || continue
    [ -z "$HINT_SIZE" ] || [ "$HINT_SIZE" = "$gib" ] || continue
    [ -z "$HINT_SERIAL" ] || [ "$HINT_SERIAL" = "$serial" ] || continue
    [ -z "$HINT_WWN" ] || [ "$(strip_wwn "$HINT_WWN")" = "$(strip_wwn "$wwn")" ] || continue
    [ "$gib" -ge "$MIN_GIB" ] || continue
    echo "$gib $d"
  done | sort -n | head -n 1 | cut -d' ' -f2
}

hints() { echo "name=${HINT_NAME:-any} size=${HINT_SIZE:-any} serial=${HINT_SERIAL:-any} wwn=${HINT_WWN:-any} min=${MIN_GIB}GiB"; }

find_install_disk() {
  # A software RAID array built by raid.create_configuration is the install disk (ADR 0101),
  # unless a name hint names another disk.
  raid_assemble
  md=$(raid_arrays | head -n 1)
  if [ -n "$md" ] && { [ -z "$HINT_NAME" ] || [ "$HINT_NAME" = "$md" ] || [ "$HINT_NAME" = "/dev/$md" ]; }; then
    DISK=$md
    log "install disk /dev/$DISK (software RAID over $(ls /sys/block/$md/slaves | tr '\n' ' '))"
    return 0
  fi
  n=0
  while :; do
    DISK=$(pick_disk)
    [ -n "$DISK" ] && break
    n=$((n + 1))
    # Disks behind slow controllers appear after the modules load: give them 15 s.
    [ $n -ge 15 ] && { log "disks seen (name GiB serial wwn):"; list_disks; fail "no disk matches the root device hints ($(hints))"; }
    sleep 1
  done
  log "install disk /dev/$DISK ($(hints))"
}

random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

export_and_wait() {
  CHAP_USER="ironledger-$(random_hex 4)"
  CHAP_SECRET=$(random_hex 8)
  out=$(start_export "$ADDRESS" "$IQN" "/dev/$DISK" "$CHAP_USER" "$CHAP_SECRET" 2>&1) || fail "iSCSI export of /dev/$DISK failed: $out"
  log "exporting /dev/$DISK as $IQN on $ADDRESS:3260"
  key=$(printf '%s' "$KEY" | json_string)
  post_deploy_info "{\"address\":\"$ADDRESS\",\"port\":\"3260\",\"iqn\":\"$IQN\",\"lun\":\"1\",\"key\":$key,\"error\":null,\"chap_user\":\"$CHAP_USER\",\"chap_secret\":\"$CHAP_SECRET\"}" ||
    fail "pass_deploy_info was not accepted"
  # A cleaning's ramdisk runs the in-band steps it is given meanwhile (steps.sh).
  run_clean_steps &
  steps=$!
  log "waiting for done on TCP $RELEASE_PORT"
  while [ ! -e /run/ironledger-released ]; do
    nc -l -p "$RELEASE_PORT" -e /bin/ironledger-release
  done
  kill $steps 2>/dev/null
  # Arrays stopped: their members' superblocks say clean, so the next boot does not resync them.
  [ -n "$(raid_arrays)" ] && mdadm --stop --scan >/dev/null 2>&1
  log "released: rebooting"
  sync
  reboot -f
}

# Every boot first offers the inventory with its key (ADR 0058): taken (202), this ramdisk was
# booted for an inspection and is done until powered off; 404: a deploy or a cleaning goes on.
inspect_if_asked() {
  # The disk this ramdisk would install to (its hints and minimum size): local_gb is taken from it.
  # Disks behind slow controllers appear late: give them 5 s, as find_install_disk gives 15.
  for attempt in 1 2 3 4 5; do root=$(pick_disk 2>/dev/null); [ -n "$root" ] && break; sleep 1; done
  body="{\"key\":$(printf '%s' "$KEY" | json_string),\"inventory\":$(inventory_json)${root:+,\"root_disk\":\"$root\"}}"
  for attempt in 1 2 3 4 5; do
    agent_call inventory "$body" >/dev/null
    case $? in
      0) log "inventory accepted; waiting to be powered off"; while :; do sleep 3600; done ;;
      2) return 0 ;;
    esac
    sleep 2
  done
  log "inventory not posted: $(cat /run/step.err 2>/dev/null)"
}

# A machine no node knows, booted by the default PXE config (ADR 0090): post the inventory, with
# the BMC's address read in-band, to the discovery endpoint (no node, no key: the service answers
# 202 whatever became of it), then wait to be powered off by whoever manages the machine now.
discover() {
  for attempt in 1 2 3 4 5; do root=$(pick_disk 2>/dev/null); [ -n "$root" ] && break; sleep 1; done
  body="{\"inventory\":$(inventory_json)${root:+,\"root_disk\":\"$root\"}}"
  delay=2
  for attempt in 1 2 3 4 5 6 7 8; do
    if wget -q -O /dev/null --header 'Content-Type: application/json' --header 'X-OpenStack-Ironic-API-Version: 1.78' \
        --post-data "$body" "${API_URL%/}/v1/continue_inspection" 2>/run/discover.err; then
      log "inventory posted for discovery; waiting to be powered off"
      while :; do sleep 3600; done
    fi
    log "discovery post: $(cat /run/discover.err)"
    # 429: too many posts from this address; anything else may be a service still starting.
    sleep $delay; [ $delay -lt 30 ] && delay=$((delay * 2))
  done
  log "the service took no discovery post; waiting to be powered off"
  while :; do sleep 3600; done
}

log "mode $MODE, node ${NODE:-?}, API ${API_URL:-?}"
case "$MODE" in
  deploy|clean)
    [ -n "$API_URL" ] && [ -n "$NODE" ] && [ -n "$IQN" ] || { log "ironic_api_url, node_uuid or iscsi_target_iqn missing: nothing to do"; exit 1; }
    [ -n "$KEY" ] || { log "no deployment_key: nothing to do"; exit 1; }
    bring_up_network
    inspect_if_asked
    find_install_disk
    export_and_wait
    ;;
  inspect)
    bring_up_network
    inspect_if_asked
    fail "the service took no inventory: node ${NODE:-?} is not inspecting"
    ;;
  discover)
    [ -n "$API_URL" ] || { log "ironic_api_url missing: nothing to do"; exit 1; }
    bring_up_network
    discover
    ;;
  rescue)
    bring_up_network
    run_rescue
    ;;
  *)
    bring_up_network
    fail "unknown ironledger_mode \"$MODE\""
    ;;
esac
