// Whether istio-proxy becomes a native sidecar (an init container with restartPolicy Always), decided as
// istiod decides it: ENABLE_NATIVE_SIDECARS (pilot/pkg/features/pilot.go), then in auto mode the kubelet
// versions of the Nodes (pkg/kube/inject/webhook.go DetectNativeSidecar). Without a Node lister at all,
// as in `istioctl kube-inject` rendering locally (inject.go IntoObject), only "true" turns them on.
import type { NativeSidecarMode } from '../types.js';

/** ENABLE_NATIVE_SIDECARS as istiod reads it: unset means auto; any value but true/false/auto means false. */
export function nativeSidecarMode(raw: string | undefined): { mode: NativeSidecarMode; warning?: string } {
  if (raw === undefined) return { mode: 'auto' };
  if (raw === 'true' || raw === 'false' || raw === 'auto') return { mode: raw };
  return { mode: 'false', warning: `Unknown value for ENABLE_NATIVE_SIDECARS: ${raw}, defaulting to false` };
}

// hashicorp/go-version's NewVersion pattern (VersionRegexpRaw), matched against the whole string: the
// numeric segments, then a pre-release and build metadata, which istiod ignores.
const GO_VERSION = new RegExp(
  String.raw`^v?([0-9]+(?:\.[0-9]+)*?)` +
    String.raw`(?:-(?:[0-9]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)|` +
    String.raw`(?:-?(?:[A-Za-z\-~]+[0-9A-Za-z\-~]*(?:\.[0-9A-Za-z\-~]+)*)))?` +
    String.raw`(?:\+(?:[0-9A-Za-z\-~]+(?:\.[0-9A-Za-z\-~]+)*))??$`,
);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The minor version of a kubelet version as istiod reads it (go-version: "v1.34.0-eks-1" gives 34, a
 * missing minor is 0); undefined when go-version refuses the string, which istiod counts as too old.
 */
export function kubeletMinor(version: unknown): number | undefined {
  const m = GO_VERSION.exec(typeof version === 'string' ? version : '');
  if (!m) return undefined;
  const segments = m[1]!.split('.').map(BigInt);
  if (segments.some((s) => s > INT64_MAX)) return undefined;
  return Number(segments[1] ?? 0n);
}

/** Native sidecars are stable, and on by default, from Kubernetes 1.33. */
export const NATIVE_SIDECAR_MIN_MINOR = 33;

export interface NodeView {
  status?: unknown;
  [key: string]: unknown;
}

/** The Nodes istiod's webhook watches; undefined where there is no such client (offline rendering). */
export interface NodeLister {
  get(name: string): NodeView | undefined;
  list(): NodeView[];
}

function kubeletVersionOf(n: NodeView): unknown {
  const status = n.status as { nodeInfo?: { kubeletVersion?: unknown } } | undefined;
  return status?.nodeInfo?.kubeletVersion;
}

const supportsNative = (n: NodeView): boolean =>
  (kubeletMinor(kubeletVersionOf(n)) ?? -1) >= NATIVE_SIDECAR_MIN_MINOR;

/**
 * istiod's decision. In auto mode: the pod's node when it is scheduled and known, else every node (one
 * older node turns them off; with no Nodes at all they are on, as in istiod); no lister at all: off.
 */
export function detectNativeSidecars(
  mode: NativeSidecarMode,
  nodes: NodeLister | undefined,
  podNodeName?: string,
): boolean {
  if (mode !== 'auto') return mode === 'true';
  if (!nodes) return false;
  if (podNodeName) {
    const node = nodes.get(podNodeName);
    if (node) return supportsNative(node);
  }
  return nodes.list().every(supportsNative);
}
