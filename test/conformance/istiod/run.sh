#!/usr/bin/env bash
# `npm run conformance:istiod`: builds (or finds in the cache) the peers and the xDS tools, then runs main.ts inside fresh
# network and PID namespaces with only loopback up, as the e2e suite does (test/e2e/run.sh): nothing
# leaves the machine, and etcd, kube-apiserver, istiod and meshd all end with the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
export MESHD_PEERS_BIN="$(MESHD_PEERS_ONLY="kube-apiserver kube-controller-manager etcd pilot-discovery" bash test/peers/build.sh | tail -n 1)"
export MESHD_KUBE_BIN="$MESHD_PEERS_BIN"
export MESHD_XDSDUMP_BIN="$(bash test/peers/tools.sh | tail -n 1)/xdsdump"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
export MESHD_CONFORMANCE_OUT="${MESHD_CONFORMANCE_OUT:-$root/.conformance}"
command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-istiod.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMPDIR="$scratch" unshare --net --pid --kill-child=SIGKILL \
  bash -c "ip link set lo up && node --import tsx test/conformance/istiod/main.ts $*"
