#!/usr/bin/env bash
# Runs the end-to-end suite against a real kube-apiserver, inside a fresh network namespace with only
# loopback up, so nothing a test does can leave the machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export MESHD_KUBE_BIN="$(bash test/e2e/kube-binaries.sh | tail -n 1)"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
files="$(find test/e2e -name '*.test.ts' | sort | tr '\n' ' ')"
exec unshare -n bash -c "ip link set lo up && node --import tsx --test --test-reporter=spec --test-concurrency=1 $files"
