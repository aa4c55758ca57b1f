#!/usr/bin/env bash
# `npm run conformance:istioctl`: finds (or builds) the peers, then runs main.ts inside fresh network and PID
# namespaces with only loopback up, as conformance:istiod does: etcd, kube-apiserver, meshd, istiod and every
# istioctl end with the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
export MESHD_PEERS_BIN="$(MESHD_PEERS_ONLY="kube-apiserver kube-controller-manager etcd pilot-discovery istioctl" bash test/peers/build.sh | tail -n 1)"
export MESHD_KUBE_BIN="$MESHD_PEERS_BIN"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
export MESHD_CONFORMANCE_OUT="${MESHD_CONFORMANCE_OUT:-$root/.conformance}"
command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-istioctl.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A bridge with a private address (a dummy interface needs a kernel module this machine lacks): istioctl names its own xDS node by the host's first private IP
# (pkg/adsc), and istiod refuses a node without one ("no valid IP address in the service node id").
TMPDIR="$scratch" unshare --net --pid --kill-child=SIGKILL \
  bash -c "ip link set lo up && ip link add meshd0 type bridge && ip addr add 10.255.0.1/32 dev meshd0 && ip link set meshd0 up && node --import tsx test/conformance/istioctl/main.ts $*"
