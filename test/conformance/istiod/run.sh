#!/usr/bin/env bash
# Parts 1-3 (injection, validation, xDS) of `npm run conformance:istiod`: the xDS client built (tools.sh),
# then main.ts in its own network and PID namespaces with etcd, kube-apiserver, istiod and meshd.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export MESHD_XDSDUMP_BIN="$(bash "$here/../../peers/tools.sh" | tail -n 1)/xdsdump"
exec bash "$here/../in-netns.sh" "kube-apiserver kube-controller-manager etcd pilot-discovery" "" \
  test/conformance/istiod/main.ts "$@"
