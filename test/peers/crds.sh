#!/usr/bin/env bash
# Writes the chart's CRD file, charts/meshd/crds/istio-crds.yaml: Istio's CustomResourceDefinitions as the
# istio.io/api module pinned in go.mod beside this script generates them (its
# kubernetes/customresourcedefinitions.gen.yaml, with the OpenAPI schemas, printer columns, served and
# storage versions; Istio's base chart ships the same file as files/crd-all.gen.yaml), byte for byte, under
# a header that names the module version and its license. test/integration/chart.test.ts checks that the
# chart's file is what this script writes.
#
# Usage: bash test/peers/crds.sh [OUT]   OUT defaults to the chart's file; `-` writes to stdout.
#
# go.mod and go.sum are only read (build.sh's cache is keyed on them): the version comes from go.mod, the
# module from the Go module cache, or from the module proxy the first time (verified against go.sum).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="${1:-$root/charts/meshd/crds/istio-crds.yaml}"
module=istio.io/api

fail() { printf 'crds: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || fail "go is not on PATH (the CRDs come from the $module Go module)"
if grep -Eq "^[[:space:]]*(replace[[:space:]]+)?$module[[:space:]].*=>" "$here/go.mod"; then
  fail "go.mod replaces $module: this script reads only the pinned release"
fi
version=$(awk -v m="$module" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod")
[[ -n $version ]] || fail "no $module version in $here/go.mod"

# -mod=mod: download checks the module against go.sum without the build list having to be tidy.
json=$(cd "$here" && GOFLAGS=-mod=mod go mod download -json "$module@$version")
dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
src="$dir/kubernetes/customresourcedefinitions.gen.yaml"
[[ -f $src ]] || fail "$module@$version has no kubernetes/customresourcedefinitions.gen.yaml:"$'\n'"$json"
grep -qs 'Apache License' "$dir/LICENSE" || fail "$module@$version: its LICENSE is not the Apache License"

render() {
  cat <<EOF
# Istio's CustomResourceDefinitions, written by test/peers/crds.sh: do not edit, run the script.
# Source: $module $version (the version test/peers/go.mod pins),
#   file kubernetes/customresourcedefinitions.gen.yaml, unchanged below this header.
# Copyright Istio Authors. Licensed under the Apache License, Version 2.0 (the module's LICENSE file;
#   http://www.apache.org/licenses/LICENSE-2.0).
# Helm installs the files of crds/ once and never upgrades them: after raising the version, apply this file.
EOF
  cat "$src"
}

if [[ $out == - ]]; then
  render
else
  tmp=$(mktemp "$out.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  render >"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" "$out"
  trap - EXIT
  printf 'crds: wrote %s from %s@%s\n' "$out" "$module" "$version" >&2
fi
