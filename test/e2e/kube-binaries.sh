#!/usr/bin/env bash
# For MESHD_KUBE_VERSION=1.20 (run.sh; the default is v1.36 from test/peers): puts kube-apiserver and
# kube-controller-manager v1.20.2 in $MESHD_KUBE_BIN (default: a cache dir) and makes
# sure etcd is installed. Uses the prebuilt pair in ../shared/k8s when it is there; otherwise rebuilds them
# from Debian bookworm's kubernetes source package, as ../shared/k8s/README.md describes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MESHD_KUBE_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/meshd/kube-v1.20.2}"
tarball="$root/../shared/k8s/kube-v1.20.2-linux-amd64.tar.xz"
mkdir -p "$bin"

apt_install() {
  if [ -z "${apt_updated:-}" ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v etcd >/dev/null || apt_install etcd-server
command -v ip >/dev/null || apt_install iproute2

if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ]; then
  echo "$bin"; exit 0
fi

if [ -f "$tarball" ]; then
  tar -xJf "$tarball" -C "$bin"
else
  echo "kube-binaries: ../shared/k8s is absent; rebuilding from Debian source (about 5 minutes)" >&2
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  if ! grep -rqs '^deb-src .*bookworm main' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror="$(grep -rhoE 'https?://[^ ]+' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -m1 debian || echo http://deb.debian.org/debian)"
    echo "deb-src $mirror bookworm main" > /etc/apt/sources.list.d/meshd-src.list
    apt_updated=
  fi
  apt_install golang-go rsync jq golang-github-modern-go-reflect2-dev
  (cd "$work" && apt-get source --download-only kubernetes >/dev/null)
  mkdir "$work/src" && tar -xzf "$work"/kubernetes_*.orig.tar.gz -C "$work/src" --strip-components=1
  # The vendored reflect2 1.0.1 crashes under Go >= 1.18 when a mutating webhook patch is applied.
  rm -rf "$work/src/vendor/github.com/modern-go/reflect2"
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$work/src/vendor/github.com/modern-go/reflect2"
  rm -f "$work/src/vendor/github.com/modern-go/reflect2/go.mod"
  printf "KUBE_GIT_VERSION='v1.20.2'\nKUBE_GIT_MAJOR='1'\nKUBE_GIT_MINOR='20'\nKUBE_GIT_TREE_STATE='clean'\n" > "$work/version"
  (cd "$work/src" && CGO_ENABLED=0 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" KUBE_GIT_VERSION_FILE="$work/version" >/dev/null)
  cp "$work"/src/_output/bin/kube-apiserver "$work"/src/_output/bin/kube-controller-manager "$bin/"
fi
echo "$bin"
