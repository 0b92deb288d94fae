#!/usr/bin/env bash
# The test command: installs what is missing, type-checks, then runs every test suite.
# Pure suites run in parallel; suites that start real servers (ipmi_sim, dnsmasq, tgtd) one at a time.
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
node --test --test-concurrency=1 --test-reporter=spec 'test/adapters/**/*.test.ts' 'test/e2e/**/*.test.ts'
