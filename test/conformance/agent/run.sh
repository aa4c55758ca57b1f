#!/usr/bin/env bash
# `npm run conformance:agent`: builds (or finds in the cache) the peers, then runs main.ts inside fresh
# network and PID namespaces with only loopback up and the pod address on it, as the e2e suite does
# (test/e2e/run.sh): nothing leaves the machine, and etcd, kube-apiserver, meshd and pilot-agent all end
# with the run. Temporary files go under one directory removed on the way out.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
export MESHD_PEERS_BIN="$(MESHD_PEERS_ONLY="kube-apiserver kube-controller-manager etcd pilot-agent" bash test/peers/build.sh | tail -n 1)"
export MESHD_KUBE_BIN="$MESHD_PEERS_BIN"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
# The pod's address: EndpointSlice v1 refuses loopback addresses (127.0.0.0/8), so the echo server listens here.
export MESHD_E2E_POD_IP=10.244.0.10
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-agent.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMPDIR="$scratch" unshare --net --pid --kill-child=SIGKILL \
  bash -c "ip link set lo up && ip addr add $MESHD_E2E_POD_IP/32 dev lo && node --import tsx test/conformance/agent/main.ts $*"
