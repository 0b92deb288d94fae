#!/bin/sh
# /init of the ironledger deploy ramdisk: mounts the kernel's file systems, loads the drivers the
# build chose (in dependency order), then runs the agent with its output on the console and in
# the log it posts on failure. PID 1 never exits: the agent reboots or waits to be powered off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev /run /tmp /var/run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
LOG=/run/ironledger-agent.log
echo "ironledger ramdisk: $(cat /etc/ironledger/build-id 2>/dev/null)" | tee -a $LOG
while read -r module; do
  [ -n "$module" ] || continue
  insmod "/lib/modules/$(uname -r)/$module" >>$LOG 2>&1 || echo "insmod $module failed" | tee -a $LOG
done < /etc/ironledger/modules
/bin/ironledger-agent 2>&1 | tee -a $LOG
echo "ironledger ramdisk: the agent ended; waiting to be powered off" | tee -a $LOG
while :; do sleep 3600; done
