#!/bin/sh
# Run by `nc -l -e` for each connection to the release port, the connection on stdin/stdout. On
# "done" the iSCSI export is taken down and the disk flushed before the connection closes, so the
# conductor's "closed" means the image is on the disk.
read -r word
case "$word" in
  done*)
    . /etc/ironledger/tgt.sh
    stop_export >&2
    sync
    touch /run/ironledger-released
    ;;
  *) echo "release port: ignored $(echo "$word" | head -c 40)" >&2 ;;
esac
exit 0
