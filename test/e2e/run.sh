#!/usr/bin/env bash
# Runs the end-to-end suite against a real kube-apiserver, inside fresh network and PID namespaces with
# only loopback up, so nothing a test does can leave the machine, and so that however the run ends (a
# failure, a timeout, a signal) every process it started (etcd, the API server, meshd) ends with it:
# the suite is PID 1 of its namespace, and unshare kills it when unshare itself is stopped. Temporary
# files go under one directory that is removed on the way out.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export MESHD_KUBE_BIN="$(bash test/e2e/kube-binaries.sh | tail -n 1)"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
files="$(find test/e2e -name '*.test.ts' | sort | tr '\n' ' ')"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-e2e.XXXXXX")"
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMPDIR="$scratch" unshare --net --pid --kill-child=SIGKILL \
  bash -c "ip link set lo up && node --import tsx --test --test-reporter=spec --test-concurrency=1 $files"
