#!/usr/bin/env bash
# The test command: installs what is missing, type-checks, then runs every test suite.
# Pure suites run in parallel. Suites that start real servers (ipmi_sim, dnsmasq, tgtd) run one at a
# time in the machine's own namespace; the QEMU VM and multi-host suites, which live in network
# namespaces of their own, run one at a time beside them (a second lane), so the slow VMs overlap
# the rest instead of adding to it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node --version)"
echo "== type check"
tsc -p tsconfig.json
echo "== tests"
node --test --test-concurrency=2 --test-reporter=spec \
  'test/property/**/*.test.ts' 'test/unit/**/*.test.ts' 'test/application/**/*.test.ts'

mapfile -t own_namespace < <(ls test/e2e/vm-*.test.ts test/e2e/multihost.test.ts)
# The burn-in agent test binds only a kernel-chosen port and shares the tools bundle's cache with
# the VM tests, so it runs in their lane (ADR 0135).
own_namespace+=(test/adapters/ramdisk-agent-burnin.test.ts)
mapfile -t main_namespace < <(find test/adapters test/e2e -name '*.test.ts' | sort | grep -vxF -f <(printf '%s\n' "${own_namespace[@]}"))
lane() { # name, files...: one file at a time, each line prefixed with the lane's name
  local name=$1; shift
  set +e
  node --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 | sed -u "s/^/[$name] /"
  local status=${PIPESTATUS[0]}
  set -e
  echo "[$name] exit $status"
  return "$status"
}
lane vms "${own_namespace[@]}" & vms=$!
lane servers "${main_namespace[@]}" & servers=$!
status=0
wait "$servers" || status=1
wait "$vms" || status=1
exit "$status"
