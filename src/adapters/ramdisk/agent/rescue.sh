# Rescue mode (ADR 0095), sourced by the agent once the network is up: fetch the rescue password's
# crypt SHA-512 hash with this ramdisk's key (the password itself never reaches the machine, nor the
# PXE command line), make it root's password, start a login on the serial console, report ready.

# Reports what kept the rescue from its login, then waits to be powered off.
rescue_fail() {
  log "FAILED: $*"
  agent_call rescue_ready "{\"key\":$(printf '%s' "$KEY" | json_string),\"error\":$(printf '%s' "$*" | json_string)}" >/dev/null ||
    log "rescue_ready (error) not taken: $(cat /run/step.err 2>/dev/null)"
  while :; do sleep 3600; done
}

# The serial console the kernel writes to (the last console= of the command line), ttyS0 by default.
console_tty() {
  tty=ttyS0
  for word in $(cat /proc/cmdline); do
    case "$word" in console=tty*) tty=${word#console=}; tty=${tty%%,*} ;; esac
  done
  echo "$tty"
}

run_rescue() {
  [ -n "$API_URL" ] && [ -n "$NODE" ] || { log "ironic_api_url or node_uuid missing: nothing to do"; exit 1; }
  [ -n "$KEY" ] || { log "rescue: no deployment_key: nothing to do"; exit 1; }
  key=$(printf '%s' "$KEY" | json_string)
  tries=0
  while :; do
    answer=$(agent_call rescue_password "{\"key\":$key}"); rc=$?
    [ $rc -eq 0 ] && break
    # 404: no rescue waits for this key; nothing to report to.
    [ $rc -eq 2 ] && { log "rescue: the service has no rescue waiting for this ramdisk"; while :; do sleep 3600; done; }
    tries=$((tries + 1))
    [ $tries -ge 60 ] && rescue_fail "rescue_password: $(cat /run/step.err 2>/dev/null)"
    sleep 2
  done
  hash=$(json_field rescue_password_hash "$answer")
  # Only a crypt SHA-512 hash: nothing that could break a line of the shadow file.
  case "$hash" in '$6$'*) ;; *) rescue_fail "the rescue password hash is not crypt SHA-512" ;; esac
  case "$hash" in *[!./0-9A-Za-z\$]*) rescue_fail "the rescue password hash has characters crypt does not use" ;; esac
  printf 'root:x:0:0:root:/root:/bin/sh\n' >/etc/passwd
  printf 'root:x:0:\n' >/etc/group
  ( umask 077; printf 'root:%s:19000:0:99999:7:::\n' "$hash" >/etc/shadow )
  hostname ironledger-rescue
  printf 'ironledger rescue (node %s)\n\n' "$NODE" >/etc/issue
  tty=$(console_tty)
  # A login on the console, started again after each logout.
  ( while :; do getty -L 115200 "$tty" vt100; sleep 1; done ) </dev/null >/dev/null 2>&1 &
  log "rescue: root login on /dev/$tty"
  tries=0
  until agent_call rescue_ready "{\"key\":$key,\"address\":\"$ADDRESS\"}" >/dev/null; do
    tries=$((tries + 1))
    [ $tries -ge 30 ] && { log "rescue_ready not taken: $(cat /run/step.err 2>/dev/null)"; break; }
    sleep 2
  done
  log "rescue: ready"
  while :; do sleep 3600; done
}
