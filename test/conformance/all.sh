#!/usr/bin/env bash
# `npm run conformance:istiod`: the seven parts of meshd measured against istiod and Istio's tools, one after
# the other (each in its own namespaces where it needs a cluster), then every part's headline scores
# again in one block. A part that cannot run, or a score under its floor (floors.json), fails the whole
# run, but only after every part has run and printed its scores.
#   1-3 injection, validation, xDS: istiod/run.sh       4 simulation: simulation/main.ts
#   5 istioctl: istioctl/run.sh                         6 pilot-agent: agent/run.sh
#   7 Helm values (meshd's chart beside istioctl manifest generate): chart/main.ts
# MESHD_CONFORMANCE_ONLY="istiod agent" (say) runs only those scripts.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
out="$(mktemp -d "${TMPDIR:-/tmp}/meshd-conformance.XXXXXX")"
trap 'rm -rf "$out"' EXIT
parts=(
  "istiod|injection, validation, xDS|bash test/conformance/istiod/run.sh"
  "simulation|Istio's traffic simulation|npx tsx test/conformance/simulation/main.ts"
  "istioctl|istioctl kube-inject and proxy-status|bash test/conformance/istioctl/run.sh"
  "agent|pilot-agent|bash test/conformance/agent/run.sh"
  "chart|Helm values files and profiles|npx tsx test/conformance/chart/main.ts"
)
failed=()
for p in "${parts[@]}"; do
  IFS='|' read -r name what cmd <<<"$p"
  [[ -n ${MESHD_CONFORMANCE_ONLY:-} && " $MESHD_CONFORMANCE_ONLY " != *" $name "* ]] && continue
  echo "=== conformance part: $what ($name)"
  start=$SECONDS
  if $cmd 2>&1 | tee "$out/$name.log"; then status=ok; else status=failed; failed+=("$name"); fi
  echo "=== $name: $status in $((SECONDS - start)) s"
done
echo "=== scores (N/M lines of every part; details and reports above)"
for p in "${parts[@]}"; do
  IFS='|' read -r name what _ <<<"$p"
  [[ -f $out/$name.log ]] || continue
  echo "$what:"
  grep -E '^[0-9]+/[0-9]+ ' "$out/$name.log" | sed 's/^/  /'
done
if ((${#failed[@]})); then echo "conformance failed: ${failed[*]}" >&2; exit 1; fi
