#!/usr/bin/env bash
# Builds meshd's test peers (istiod, istioctl, pilot-agent, kube-*, etcd) from the Go modules pinned in
# go.mod/go.sum beside this script, through the Go module proxy, into a cache directory keyed by the
# sha256 of go.mod, go.sum and this script (it holds the flags and version stamps). A second run with a
# filled cache starts no Go command at all.
# Last line of output: the bin directory. Progress goes to stderr.
#
# Environment:
#   MESHD_PEERS_CACHE  cache root (default $HOME/.cache/meshd-peers); binaries land in <root>/<hash>/bin
#   MESHD_PEERS_NICE   nice level for the go commands (default 19: the build yields to tests and people)
#   MESHD_PEERS_ONLY   space-separated peer names to build (default: all); the cache check covers only these
#   MESHD_PEERS_SHARED prebuilt binaries to use when they report the pinned versions (default ../shared/peers
#                      beside the repository root)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
shared="${MESHD_PEERS_SHARED:-$root/../shared/peers}"

log() { printf 'peers: %s\n' "$*" >&2; }

# Versions come from go.mod itself (no go command needed to read them).
modver() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod"; }
kube_ver=$(modver k8s.io/kubernetes)
istio_pseudo=$(modver istio.io/istio)
etcd_ver=$(modver go.etcd.io/etcd/server/v3)
istio_rev=${istio_pseudo##*-}
# What istio's own Makefile would stamp for this commit: its VERSION file says 1.31, untagged builds add -dev.
istio_ver=1.31-dev
kube_minor=$(echo "$kube_ver" | cut -d. -f2)
[[ -n $kube_ver && -n $istio_pseudo && -n $etcd_ver ]] || { log "cannot read versions from go.mod"; exit 1; }

# name|package|group|version command|text its output must contain
peers=(
  "pilot-discovery|istio.io/istio/pilot/cmd/pilot-discovery|istio|version|GitRevision:\"$istio_rev\""
  "istioctl|istio.io/istio/istioctl/cmd/istioctl|istio|version --remote=false --short=false|GitRevision:\"$istio_rev\""
  "pilot-agent|istio.io/istio/pilot/cmd/pilot-agent|istio|version|GitRevision:\"$istio_rev\""
  "kube-apiserver|k8s.io/kubernetes/cmd/kube-apiserver|kube|--version|Kubernetes $kube_ver"
  "kube-controller-manager|k8s.io/kubernetes/cmd/kube-controller-manager|kube|--version|Kubernetes $kube_ver"
  "kube-scheduler|k8s.io/kubernetes/cmd/kube-scheduler|kube|--version|Kubernetes $kube_ver"
  "kubelet|k8s.io/kubernetes/cmd/kubelet|kube|--version|Kubernetes $kube_ver"
  "etcd|go.etcd.io/etcd/server/v3|etcd|--version|etcd Version: ${etcd_ver#v}"
)
if [[ -n ${MESHD_PEERS_ONLY:-} ]]; then
  wanted=()
  for p in "${peers[@]}"; do [[ " $MESHD_PEERS_ONLY " == *" ${p%%|*} "* ]] && wanted+=("$p"); done
  peers=("${wanted[@]}")
fi

hash=$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)
bin="${MESHD_PEERS_CACHE:-$HOME/.cache/meshd-peers}/$hash/bin"

missing() { for p in "${peers[@]}"; do [[ -x "$bin/${p%%|*}" ]] || echo "$p"; done; }
if [[ -z $(missing) ]]; then echo "$bin"; exit 0; fi
mkdir -p "$bin"

# version_ok FILE CMD WANT: the binary runs and says it is the pinned version.
version_ok() { local out; out=$(timeout 20 "$1" $2 2>&1) && [[ $out == *"$3"* ]]; }

# Binaries of the same versions in shared/ (read-only there) are linked rather than rebuilt.
if [[ -d $shared ]]; then
  while IFS= read -r p; do
    IFS='|' read -r name _ _ cmd want <<<"$p"
    if [[ -x "$shared/$name" ]] && version_ok "$shared/$name" "$cmd" "$want"; then
      ln -sfn "$shared/$name" "$bin/$name" && log "$name: using $shared/$name"
    fi
  done < <(missing)
fi

run_go() {
  local pre=(nice -n "${MESHD_PEERS_NICE:-19}")
  command -v ionice >/dev/null && pre+=(ionice -c3)
  (cd "$here" && "${pre[@]}" go "$@")
}

export GOWORK=off CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly"
goos=$(go env GOOS) goarch=$(go env GOARCH)
ldflags_for() {
  local cv=k8s.io/component-base/version gv=k8s.io/client-go/pkg/version iv=istio.io/istio/pkg/version v x=()
  case $1 in
    istio) x=("$iv.buildVersion=$istio_ver" "$iv.buildGitRevision=$istio_rev" "$iv.buildStatus=Clean"
              "$iv.buildTag=$istio_pseudo" "$iv.buildHub=none" "$iv.buildOS=$goos" "$iv.buildArch=$goarch") ;;
    kube) for v in $cv $gv; do
            x+=("$v.gitVersion=$kube_ver" "$v.gitMajor=1" "$v.gitMinor=$kube_minor" "$v.gitTreeState=clean")
          done ;;
  esac
  printf -- '-s -w'; for v in "${x[@]}"; do printf -- ' -X %s' "$v"; done
}

tmp="$bin/../tmp.$$"
trap 'rm -rf "$tmp"' EXIT
for group in istio kube etcd; do
  todo=()
  while IFS= read -r p; do [[ $p == *"|$group|"* ]] && todo+=("$p"); done < <(missing)
  ((${#todo[@]})) || continue
  names=() pkgs=()
  for p in "${todo[@]}"; do IFS='|' read -r n pkg _ <<<"$p"; names+=("$n"); pkgs+=("$pkg"); done
  log "building ${names[*]}"
  start=$SECONDS
  mkdir -p "$tmp"
  # One go build per peer (so each -o names its binary); the Go build cache compiles shared packages once.
  for i in "${!pkgs[@]}"; do
    run_go build -trimpath -ldflags "$(ldflags_for "$group")" -o "$tmp/${names[$i]}" "${pkgs[$i]}"
  done
  log "$group: built in $((SECONDS - start)) s"
  for p in "${todo[@]}"; do
    IFS='|' read -r name _ _ cmd want <<<"$p"
    version_ok "$tmp/$name" "$cmd" "$want" || { log "$name does not report $want"; exit 1; }
    mv -f "$tmp/$name" "$bin/$name"
  done
done
echo "$bin"
