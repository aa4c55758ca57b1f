#!/usr/bin/env bash
# `npm run conformance:istioctl`: main.ts in its own network and PID namespaces (etcd, kube-apiserver,
# meshd, istiod and every istioctl end with the run). Inside, a bridge with a private address (a dummy
# interface needs a kernel module this machine lacks): istioctl names its own xDS node by the host's first
# private IP (pkg/adsc), and istiod refuses a node without one ("no valid IP address in the service node id").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../in-netns.sh" "kube-apiserver kube-controller-manager etcd pilot-discovery istioctl" \
  "ip link add meshd0 type bridge && ip addr add 10.255.0.1/32 dev meshd0 && ip link set meshd0 up" \
  test/conformance/istioctl/main.ts "$@"
