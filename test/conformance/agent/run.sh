#!/usr/bin/env bash
# `npm run conformance:agent`: main.ts in its own network and PID namespaces (etcd, kube-apiserver, meshd
# and pilot-agent end with the run), with the pod address on loopback: EndpointSlice v1 refuses loopback
# addresses (127.0.0.0/8), so the echo server listens on that one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export MESHD_E2E_POD_IP=10.244.0.10
exec bash "$here/../in-netns.sh" "kube-apiserver kube-controller-manager etcd pilot-agent" \
  "ip addr add $MESHD_E2E_POD_IP/32 dev lo" test/conformance/agent/main.ts "$@"
