#!/usr/bin/env bash
# The main job: install what is missing, then run the service on its embedded default (a SQLite
# file under var/) with simulated machines. Extra arguments go to `ironledger serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --debian-optional
mkdir -p var
# --vms N (real QEMU VMs) replaces the simulated machines.
case " $* " in *" --vms "*) sim=() ;; *) sim=(--sim "${IRONLEDGER_SIM:-3}") ;; esac
exec bin/ironledger serve --db var/ironledger.sqlite "${sim[@]}" "$@"
