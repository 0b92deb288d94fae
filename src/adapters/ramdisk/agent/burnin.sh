# Burn-in steps (ADR 0100), sourced by the agent. The tools (stress-ng, memtester, fio) are not in
# the initramfs: the first burn-in step fetches the service's tools bundle over HTTP, checks its
# sha256 against the manifest and unpacks it into /run/tools; each tool runs under the bundle's own
# dynamic loader and libraries. Each step prints its summary, then a JSON object of the tools' figures.
TOOLS=${TOOLS:-/run/tools}

# A top-level string or number field of a flat JSON text.
json_value() { printf '%s' "$2" | sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" | head -n 1; }

whole_seconds() {
  case "$2" in ''|*[!0-9]*) echo "$1 must be a whole number of seconds, not \"$2\"" >&2; return 1 ;; esac
}

fetch_tools() {
  [ -e "$TOOLS/.complete" ] && return 0
  manifest=$(wget -q -O - "${API_URL%/}/v1/ramdisk-tools" 2>/run/tools.err) ||
    { echo "the service serves no tools bundle: $(cat /run/tools.err)" >&2; return 1; }
  sha=$(json_value sha256 "$manifest") path=$(json_value path "$manifest")
  [ -n "$sha" ] && [ -n "$path" ] || { echo "the tools manifest names no bundle: $manifest" >&2; return 1; }
  wget -q -O /run/tools.cpio.gz "${API_URL%/}$path" 2>/run/tools.err || { echo "tools bundle: $(cat /run/tools.err)" >&2; return 1; }
  got=$(sha256sum /run/tools.cpio.gz | cut -d' ' -f1)
  [ "$got" = "$sha" ] || { rm -f /run/tools.cpio.gz; echo "the tools bundle's sha256 is $got, the manifest says $sha" >&2; return 1; }
  rm -rf "$TOOLS"; mkdir -p "$TOOLS"
  (cd "$TOOLS" && gunzip -c /run/tools.cpio.gz | cpio -id 2>/dev/null) || { echo "the tools bundle does not unpack" >&2; return 1; }
  rm -f /run/tools.cpio.gz
  touch "$TOOLS/.complete"
  # On stderr: a step's stdout is its summary and figures, nothing else.
  log "tools bundle $sha unpacked" >&2
}

# (_tool: not to clobber the callers' variables; busybox sh has no local scoping guarantees here)
tool() { _tool=$1; shift; "$TOOLS/lib/ld-linux-x86-64.so.2" --library-path "$TOOLS/lib" "$TOOLS/bin/$_tool" "$@"; }

step_burnin_cpu() {
  t=$(json_value agent_burnin_cpu_timeout "$2"); t=${t:-86400}
  n=$(json_value agent_burnin_cpu_cpu "$2"); n=${n:-0}
  whole_seconds agent_burnin_cpu_timeout "$t" || return 1
  case "$n" in ''|*[!0-9]*) echo "agent_burnin_cpu_cpu must be a whole number, not \"$n\"" >&2; return 1 ;; esac
  fetch_tools || return 1
  tool stress-ng --cpu "$n" --timeout "${t}s" --metrics-brief >/run/stress.out 2>&1 ||
    { tail -n 5 /run/stress.out >&2; echo "stress-ng --cpu failed" >&2; return 1; }
  # "stress-ng: metrc: [pid] cpu  <bogo ops> <real s> <usr s> <sys s> <ops/s real> <ops/s usr+sys>"
  set -- $(grep -E '\] +cpu +[0-9]' /run/stress.out | tail -n 1 | sed 's/.*\] *cpu *//')
  [ -n "$1" ] || { tail -n 5 /run/stress.out >&2; echo "stress-ng printed no cpu metrics" >&2; return 1; }
  workers=$n; [ "$n" = 0 ] && workers=$(grep -c '^processor' /proc/cpuinfo)
  echo "stress-ng cpu: $1 bogo ops in $2 s on $workers CPU(s)"
  echo "{\"tool\":\"stress-ng\",\"bogo_ops\":$1,\"seconds\":$2,\"bogo_ops_per_second\":$5,\"workers\":$workers}"
}

step_burnin_memory() {
  t=$(json_value agent_burnin_vm_timeout "$2"); t=${t:-86400}
  size=$(json_value agent_burnin_vm_vm-bytes "$2"); size=${size:-75%}
  whole_seconds agent_burnin_vm_timeout "$t" || return 1
  case "$size" in
    *%) pct=${size%\%}; case "$pct" in ''|*[!0-9]*) echo "agent_burnin_vm_vm-bytes \"$size\": a percentage like 50%" >&2; return 1 ;; esac
        size="$(( $(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo) * pct / 100 ))K" ;;
    *[0-9]|*[0-9][KMG]) ;;
    *) echo "agent_burnin_vm_vm-bytes must be like 64M, 1G or 50%, not \"$size\"" >&2; return 1 ;;
  esac
  fetch_tools || return 1
  end=$(( $(date +%s) + t )) passes=0
  # At least one pass; then passes until the time is up.
  while :; do
    tool memtester "$size" 1 >/run/memtester.out 2>&1 ||
      { rc=$?; grep -i -m 3 'fail' /run/memtester.out >&2; echo "memtester $size failed (status $rc) after $passes pass(es)" >&2; return 1; }
    passes=$((passes + 1))
    [ "$(date +%s)" -ge $end ] && break
  done
  echo "memtester: $passes pass(es) over $size, no failures"
  echo "{\"tool\":\"memtester\",\"passes\":$passes,\"failures\":0,\"size\":\"$size\",\"seconds\":$t}"
}

step_burnin_disk() {
  rt=$(json_value agent_burnin_fio_disk_runtime "$2"); rt=${rt:-0}
  loops=$(json_value agent_burnin_fio_disk_loops "$2"); loops=${loops:-4}
  whole_seconds agent_burnin_fio_disk_runtime "$rt" || return 1
  whole_seconds agent_burnin_fio_disk_loops "$loops" || return 1
  # fio writes every disk: an array built on them would be destroyed under its feet.
  grep -q '^md' /proc/mdstat 2>/dev/null && { echo "a software RAID array is active; burn in the disks before raid.create_configuration" >&2; return 1; }
  fetch_tools || return 1
  if [ "$rt" -gt 0 ]; then how="--runtime=$rt --time_based"; else how="--loops=$loops"; fi
  n=0 figures= summary=
  for d in $(list_disks | cut -d' ' -f1); do
    # --minimal: one ';'-separated line; field 8 is read IOPS, field 49 write IOPS.
    tool fio --name="burnin-$d" --filename="/dev/$d" --rw=randrw --bs=4k --direct=1 --ioengine=libaio --iodepth=16 $how --minimal >/run/fio.out 2>&1 ||
      { tail -n 5 /run/fio.out >&2; echo "fio on /dev/$d failed" >&2; return 1; }
    line=$(grep ';' /run/fio.out | tail -n 1)
    r=$(echo "$line" | cut -d';' -f8) w=$(echo "$line" | cut -d';' -f49)
    [ -n "$r" ] && [ -n "$w" ] || { tail -n 3 /run/fio.out >&2; echo "fio on /dev/$d printed no figures" >&2; return 1; }
    figures="$figures${figures:+,}{\"name\":\"$d\",\"read_iops\":$r,\"write_iops\":$w}"
    summary="$summary${summary:+, }$d read $r IOPS, write $w IOPS"
    n=$((n + 1))
  done
  echo "fio on $n disk(s): $summary"
  echo "{\"tool\":\"fio\",\"disks\":[$figures],\"runtime\":$rt,\"loops\":$loops}"
}
