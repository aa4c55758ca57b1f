#!/usr/bin/env bash
# Builds the conformance suites' own Go tools in this module (xdsdump: an xDS client that prints what a
# control plane sends; simulate: Istio's traffic simulator over such a dump) into a cache directory keyed
# by go.mod, go.sum, this script and the tools' sources, so editing a tool does not rebuild the peers of
# build.sh. Last line of output: the bin directory. Same environment as build.sh (MESHD_PEERS_CACHE,
# MESHD_PEERS_NICE).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=()
for d in xdsdump simulate; do [[ -d $here/$d ]] && tools+=("$d"); done
hash=$(cd "$here" && cat go.mod go.sum tools.sh $(for t in "${tools[@]}"; do ls "$t"/*.go; done | sort) \
  | sha256sum | cut -c1-16)
bin="${MESHD_PEERS_CACHE:-$HOME/.cache/meshd-peers}/tools-$hash/bin"
todo=()
for t in "${tools[@]}"; do [[ -x $bin/$t ]] || todo+=("$t"); done
if ((${#todo[@]})); then
  mkdir -p "$bin"
  export GOWORK=off CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly"
  pre=(nice -n "${MESHD_PEERS_NICE:-19}")
  # -trimpath as in build.sh, so both share the Go build cache's compiled packages.
  for t in "${todo[@]}"; do
    printf 'peers: building %s\n' "$t" >&2
    (cd "$here" && "${pre[@]}" go build -trimpath -o "$bin/$t.tmp" "./$t") && mv -f "$bin/$t.tmp" "$bin/$t"
  done
fi
echo "$bin"
