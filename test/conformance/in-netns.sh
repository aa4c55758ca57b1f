#!/usr/bin/env bash
# Runs a conformance script that needs a cluster the way the e2e suite does (test/e2e/run.sh): the peers
# it names built (or found in the cache), kubectl and helm unpacked, then the script inside fresh network
# and PID namespaces with loopback up, so nothing leaves the machine and every process ends with the run;
# temporary files go under one directory removed on the way out.
#   in-netns.sh "PEERS" "SETUP" SCRIPT.ts [ARGS...]
# PEERS: the test/peers binaries needed (MESHD_PEERS_ONLY); SETUP: shell commands run inside the namespace
# before the script (addresses, say), or "".
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
peers=$1 setup=$2 script=$3
shift 3
export MESHD_PEERS_BIN="$(MESHD_PEERS_ONLY="$peers" bash test/peers/build.sh | tail -n 1)"
export MESHD_KUBE_BIN="$MESHD_PEERS_BIN"
export MESHD_KUBE_TOOLS="$(bash test/e2e/kube-tools.sh | tail -n 1)"
export MESHD_CONFORMANCE_OUT="${MESHD_CONFORMANCE_OUT:-$root/.conformance}"
command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
scratch="$(mktemp -d "${TMPDIR:-/tmp}/meshd-conformance.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TMPDIR="$scratch" unshare --net --pid --kill-child=SIGKILL \
  bash -c "ip link set lo up && ${setup:-true} && node --import tsx $script $*"
