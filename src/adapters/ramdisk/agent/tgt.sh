# Sourced: start and stop the iSCSI export of one disk with tgtd (control port 0, target 1, LUN 1).
start_export() { # ADDRESS IQN DEVICE CHAP_USER CHAP_SECRET
  mkdir -p /var/run/tgtd
  tgtd -f --iscsi "portal=$1:3260" >>/run/tgtd.log 2>&1 &
  echo $! > /run/tgtd.pid
  n=0
  until tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1; do
    n=$((n + 1))
    if [ $n -gt 50 ] || ! kill -0 "$(cat /run/tgtd.pid)" 2>/dev/null; then
      echo "tgtd did not start: $(tail -n 5 /run/tgtd.log)"
      return 1
    fi
    sleep 0.2
  done
  tgtadm --lld iscsi --op new --mode target --tid 1 -T "$2" &&
  tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$3" &&
  tgtadm --lld iscsi --op new --mode account --user "$4" --password "$5" &&
  tgtadm --lld iscsi --op bind --mode account --tid 1 --user "$4" &&
  tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL
}

stop_export() {
  [ -e /run/tgtd.pid ] || return 0
  pid=$(cat /run/tgtd.pid)
  # tgtd ignores SIGTERM while it has targets: delete the target first, then ask it to exit.
  tgtadm --lld iscsi --op delete --mode target --tid 1 --force 2>&1
  # tgtd exits without answering this request: its "closed the socket" is the expected reply.
  tgtadm --op delete --mode system >/dev/null 2>&1
  n=0
  while kill -0 "$pid" 2>/dev/null && [ $n -lt 25 ]; do n=$((n + 1)); sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { echo "tgtd did not exit: killing it"; kill -9 "$pid"; }
  rm -f /run/tgtd.pid
  echo "iSCSI export stopped"
}
