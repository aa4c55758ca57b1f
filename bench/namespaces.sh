#!/usr/bin/env bash
# Runs bench/namespaces.ts against the e2e suite's real API server, inside `unshare -n` (loopback only).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export MESHD_KUBE_BIN="$(bash test/e2e/kube-binaries.sh | tail -n 1)"
exec unshare -n bash -c 'ip link set lo up && exec node --import tsx bench/namespaces.ts "$@"' bench "$@"
