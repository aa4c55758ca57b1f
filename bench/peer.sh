#!/usr/bin/env bash
# `bash bench/peer.sh inject|validate|xds [flags]`: runs bench/<name>.ts with --peer istiod, beside real
# istiod from test/peers on a real API server, inside fresh network and PID namespaces with only loopback
# up (as test/conformance/istiod/run.sh does): etcd, kube-apiserver, istiod and meshd all end with the run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bench="${1:?usage: bash bench/peer.sh inject|validate|xds [flags]}"
shift
case "$bench" in inject|validate|xds) ;; *) echo "bench/peer.sh: no --peer istiod for bench/$bench" >&2; exit 2 ;; esac
export MESHD_PEERS_BIN="$(MESHD_PEERS_ONLY="kube-apiserver kube-controller-manager etcd pilot-discovery" bash test/peers/build.sh | tail -n 1)"
export MESHD_KUBE_BIN="$MESHD_PEERS_BIN"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-bench-peer.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# --mount-proc: the planes' /proc/<pid> (CPU, RSS) by the PIDs this namespace gives them.
TMPDIR="$scratch" unshare --net --pid --mount-proc --kill-child=SIGKILL \
  bash -c 'ip link set lo up && exec node --import tsx "bench/$0.ts" --peer istiod "$@"' "$bench" "$@"
