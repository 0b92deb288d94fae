# In-band cleaning steps (ADR 0057), sourced by the agent. After its call-back the agent asks the
# service for its next step with its key (vendor_passthru/clean_step), runs it on the local disks
# and posts the outcome (clean_step_result), until the service answers 404: not cleaning (a
# deploy's ramdisk stops at the first answer), or the cleaning ended.

# The value of a top-level string field of a flat JSON answer.
json_field() { printf '%s' "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

# POSTs a body to a vendor passthru method; the answer on stdout. 1 on any error, 2 on a 404.
agent_call() {
  wget -q -O - --header 'Content-Type: application/json' --header 'X-OpenStack-Ironic-API-Version: 1.78' \
    --post-data "$2" "${API_URL%/}/v1/nodes/$NODE/vendor_passthru/$1" 2>/run/step.err && return 0
  grep -q ' 404' /run/step.err && return 2
  return 1
}

disk_sectors() { cat "/sys/block/$1/size"; }

# Each step prints its summary on the first line and a JSON object of figures on the second; any
# failure is its message on stderr and a non-zero status.
step_erase_devices_metadata() {
  n=0
  for d in $(list_disks | cut -d' ' -f1); do
    s=$(disk_sectors "$d")
    # 36 sectors (18 KiB) at each end: MBR, GPT and its backup.
    dd if=/dev/zero of="/dev/$d" bs=512 count=36 conv=fsync 2>/dev/null || { echo "dd on /dev/$d failed" >&2; return 1; }
    dd if=/dev/zero of="/dev/$d" bs=512 seek=$((s - 36)) count=36 conv=fsync 2>/dev/null || { echo "dd at the end of /dev/$d failed" >&2; return 1; }
    n=$((n + 1))
  done
  echo "zeroed the first and last 18432 bytes of $n disk(s)"
  echo "{\"disks\":$n}"
}

# Every byte of one disk: whole 4 MiB blocks with O_DIRECT (no copy through the page cache), then
# the sectors after the last whole block.
zero_disk() {
  blocks=$(($2 / 8192)) rest=$(($2 % 8192))
  dd if=/dev/zero of="/dev/$1" bs=4194304 count=$blocks oflag=direct conv=fsync 2>/run/dd.$1.err ||
    { echo "dd on /dev/$1: $(tail -n 1 /run/dd.$1.err)" >&2; return 1; }
  [ $rest -eq 0 ] && return 0
  dd if=/dev/zero of="/dev/$1" bs=512 seek=$((blocks * 8192)) count=$rest conv=fsync 2>/run/dd.$1.err ||
    { echo "dd at the end of /dev/$1: $(tail -n 1 /run/dd.$1.err)" >&2; return 1; }
}

# All disks at once, as Ironic's agent can (disk_erasure_concurrency): a fleet's wipe time is its
# largest disk's, not their sum.
step_erase_devices() {
  n=0 total=0 jobs=""
  for d in $(list_disks | cut -d' ' -f1); do
    s=$(disk_sectors "$d")
    zero_disk "$d" "$s" 2>"/run/erase.$d.err" &
    jobs="$jobs $!:$d"
    n=$((n + 1)) total=$((total + s * 512))
  done
  failed=0
  for j in $jobs; do
    wait "${j%%:*}" || { cat "/run/erase.${j#*:}.err" >&2; failed=1; }
  done
  [ $failed -eq 0 ] || return 1
  sync
  echo "overwrote $total bytes of $n disk(s) with zeros"
  echo "{\"disks\":$n,\"bytes\":$total}"
}

run_step() {
  case "$1" in
    deploy.erase_devices_metadata) step_erase_devices_metadata ;;
    deploy.erase_devices) step_erase_devices ;;
    deploy.burnin_cpu) step_burnin_cpu "$@" ;;
    deploy.burnin_memory) step_burnin_memory "$@" ;;
    deploy.burnin_disk) step_burnin_disk "$@" ;;
    raid.create_configuration) step_raid_create "$@" ;;
    raid.delete_configuration) step_raid_delete "$@" ;;
    *) echo "this ramdisk does not know the step $1" >&2; return 1 ;;
  esac
}

run_clean_steps() {
  key=$(printf '%s' "$KEY" | json_string)
  fails=0
  while [ ! -e /run/ironledger-released ]; do
    answer=$(agent_call clean_step "{\"key\":$key}"); rc=$?
    if [ $rc -eq 2 ]; then log "no clean step for this ramdisk"; return 0; fi
    if [ $rc -ne 0 ]; then
      fails=$((fails + 1))
      [ $fails -ge 60 ] && { log "clean_step: $(cat /run/step.err)"; return 1; }
      sleep 2; continue
    fi
    fails=0
    case "$answer" in *'"wait":true'*) sleep 2; continue ;; esac
    step=$(json_field step "$answer") name=$(json_field name "$answer")
    log "clean step $name"
    if run_step "$name" "$answer" >/run/step.out 2>/run/step.fail; then
      summary=$(head -n 1 /run/step.out | json_string)
      details=$(sed -n 2p /run/step.out)
      [ -n "$details" ] || details='{}'
      body="{\"key\":$key,\"step\":\"$step\",\"summary\":$summary,\"details\":$details,\"error\":null}"
      log "clean step $name: $(head -n 1 /run/step.out)"
      cat /run/step.fail   # what a step that succeeded noted on the way (the agent's log)
    else
      error=$(tail -c 2000 /run/step.fail | json_string)
      body="{\"key\":$key,\"step\":\"$step\",\"error\":$error}"
      log "clean step $name failed: $(cat /run/step.fail)"
    fi
    n=0
    until agent_call clean_step_result "$body" >/dev/null; do
      n=$((n + 1)); [ $n -ge 30 ] && { log "clean_step_result: $(cat /run/step.err)"; break; }
      sleep 2
    done
  done
}
