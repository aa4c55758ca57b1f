#!/usr/bin/env bash
# Runs the end-to-end suite against a real kube-apiserver, inside fresh network and PID namespaces with
# only loopback up, so nothing a test does can leave the machine, and so that however the run ends (a
# failure, a timeout, a signal) every process it started (etcd, the API server, meshd) ends with it:
# the suite is PID 1 of its namespace, and unshare kills it when unshare itself is stopped. Temporary
# files go under one directory that is removed on the way out.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# MESHD_KUBE_VERSION picks the Kubernetes the suite runs against: 1.36 (default; kube-apiserver,
# kube-controller-manager and etcd built from test/peers, a no-op when cached) or 1.20 (the oldest
# supported; the v1.20.2 pair from ../shared/k8s with Debian's etcd, see kube-binaries.sh).
case "${MESHD_KUBE_VERSION:-1.36}" in
  1.36) MESHD_KUBE_BIN="$(MESHD_PEERS_ONLY="kube-apiserver kube-controller-manager etcd" bash test/peers/build.sh | tail -n 1)" ;;
  1.20) MESHD_KUBE_BIN="$(bash test/e2e/kube-binaries.sh | tail -n 1)" ;;
  *) echo "MESHD_KUBE_VERSION must be 1.36 or 1.20, not ${MESHD_KUBE_VERSION}" >&2; exit 2 ;;
esac
export MESHD_KUBE_BIN
command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
# A pod address on the loopback device: EndpointSlice v1 refuses loopback addresses (127.0.0.0/8), so
# backends that endpoints point at listen here.
export MESHD_E2E_POD_IP=10.244.0.10
files="$(find test/e2e -name '*.test.ts' | sort | tr '\n' ' ')"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-e2e.XXXXXX")"
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMPDIR="$scratch" unshare --net --pid --kill-child=SIGKILL \
  bash -c "ip link set lo up && ip addr add $MESHD_E2E_POD_IP/32 dev lo && node --import tsx --test --test-reporter=spec --test-concurrency=1 $files"
