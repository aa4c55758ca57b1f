// User-declared sidecar containers and re-injection (istio pkg/kube/inject/webhook.go
// reapplyOverwrittenContainers, inject.go stripPod/reinsertOverrides): a container the user wrote with
// the name of an injected one is laid over the injected version field by field, and recorded in
// proxy.istio.io/overrides so that injecting the pod again reproduces it.
import { CONTAINER, goOrdered } from '../kube/go-json.js';
import type { Container, MeshConfig, Pod, ProxyConfig } from '../types.js';
import { findContainer, INIT, placeContainer, PROXY, VALIDATION } from './containers.js';
import { clearPrometheusAnnotations, prometheusPort } from './prometheus.js';
import { strategicMergePod } from './strategic-merge.js';

export const STATUS_ANNOTATION = 'sidecar.istio.io/status';
export const OVERRIDES_ANNOTATION = 'proxy.istio.io/overrides';

interface ContainerNames {
  containers: string[];
  initContainers: string[];
}

/** Names of the containers a previous injection added, from sidecar.istio.io/status; null if none. */
export function previousInjection(pod: Pod): ContainerNames | null {
  const raw = pod.metadata?.annotations?.[STATUS_ANNOTATION];
  if (raw === undefined) return null;
  try {
    const s = JSON.parse(raw) as Record<string, unknown>;
    const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return { containers: names(s.containers), initContainers: names(s.initContainers) };
  } catch {
    return null;
  }
}

interface Overrides {
  containers?: Container[];
  initContainers?: Container[];
}

function parseOverrides(pod: Pod): Overrides {
  const raw = pod.metadata?.annotations?.[OVERRIDES_ANNOTATION];
  if (raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new Error(`invalid ${OVERRIDES_ANNOTATION} annotation: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`invalid ${OVERRIDES_ANNOTATION} annotation: not an object`);
  return v as Overrides;
}

/** The pod as templates should see it: previously injected containers and merged metrics annotations removed. */
export function stripPreviousInjection(pod: Pod, mesh: MeshConfig): Pod {
  const prev = previousInjection(pod);
  if (!prev) return pod;
  const out = structuredClone(pod);
  const spec = (out.spec ??= {});
  for (const n of prev.containers) spec.containers = placeContainer(spec.containers, n, 'remove');
  for (const n of prev.initContainers) spec.initContainers = placeContainer(spec.initContainers, n, 'remove');
  const ann = out.metadata!.annotations!;
  if (prometheusPort(ann) === String(mesh.defaultConfig?.statusPort ?? 15020)) clearPrometheusAnnotations(ann);
  delete ann[STATUS_ANNOTATION];
  return out;
}

/** Puts back containers recorded in proxy.istio.io/overrides that are no longer in the pod. */
export function reinsertOverrides(pod: Pod): Pod {
  const o = parseOverrides(pod);
  if (!o.containers?.length && !o.initContainers?.length) return pod;
  const out = structuredClone(pod);
  const spec = (out.spec ??= {});
  for (const c of o.containers ?? []) if (!spec.containers?.some((x) => x.name === c.name)) spec.containers = [...(spec.containers ?? []), c];
  for (const c of o.initContainers ?? []) if (!spec.initContainers?.some((x) => x.name === c.name)) spec.initContainers = [...(spec.initContainers ?? []), c];
  return out;
}

function overlayOf(c: Container): Container {
  const overlay = structuredClone(c);
  // "auto" means: keep the injected image.
  if (overlay.image === 'auto' || overlay.image === '') delete overlay.image;
  return goOrdered(overlay, CONTAINER) as Container;
}

/** Lays the user's own versions of injected containers over the injected pod. */
export function reapplyUserContainers(finalPod: Pod, originalPod: Pod, templatePod: Pod, proxyConfig: ProxyConfig): Pod {
  const existing = parseOverrides(originalPod);
  const prev = previousInjection(originalPod);
  const recorded: Required<Overrides> = { containers: [], initContainers: [] };
  let pod = finalPod;
  for (const c of templatePod.spec?.containers ?? []) {
    if (prev?.containers.includes(c.name)) continue;
    const match = existing.containers?.find((x) => x.name === c.name) ?? originalPod.spec?.containers?.find((x) => x.name === c.name);
    if (!match) continue;
    const overlay = overlayOf(match);
    recorded.containers.push(overlay);
    pod = strategicMergePod(pod, { spec: { containers: [overlay] } }) as Pod;
  }
  for (const c of templatePod.spec?.initContainers ?? []) {
    if (prev?.initContainers.includes(c.name)) continue;
    const match = existing.initContainers?.find((x) => x.name === c.name) ?? findContainer(originalPod, c.name);
    if (!match) continue;
    const overlay = overlayOf(match);
    recorded.initContainers.push(overlay);
    pod = strategicMergePod(pod, { spec: { containers: [], initContainers: [overlay] } }) as Pod;
  }
  if (!prev && (recorded.containers.length > 0 || recorded.initContainers.length > 0)) {
    const o: Overrides = {};
    if (recorded.containers.length > 0) o.containers = recorded.containers;
    if (recorded.initContainers.length > 0) o.initContainers = recorded.initContainers;
    ((pod.metadata ??= {}).annotations ??= {})[OVERRIDES_ANNOTATION] = JSON.stringify(o);
  }
  adjustInitContainerUser(pod, originalPod, proxyConfig);
  return pod;
}

/** A user-set proxy UID/GID carries over to the iptables init container (istio adjustInitContainerUser). */
function adjustInitContainerUser(pod: Pod, originalPod: Pod, proxyConfig: ProxyConfig): void {
  const user = findContainer(originalPod, PROXY)?.securityContext;
  if (!user || (user.runAsUser === undefined && user.runAsGroup === undefined)) return;
  const init = pod.spec?.initContainers?.find((c) => c.name === INIT) ?? pod.spec?.initContainers?.find((c) => c.name === VALIDATION);
  if (!init) return;
  const tproxy = proxyConfig.interceptionMode === 'TPROXY' || pod.metadata?.annotations?.['sidecar.istio.io/interceptionMode'] === 'TPROXY';
  if (tproxy && user.runAsUser !== undefined) {
    const sidecar = findContainer(pod, PROXY);
    if (!sidecar) return;
    (sidecar.securityContext ??= {}).runAsUser = 0;
  }
  if (!tproxy && init.name === VALIDATION) {
    const sc = (init.securityContext ??= {});
    if (user.runAsUser !== undefined) sc.runAsUser = user.runAsUser;
    if (user.runAsGroup !== undefined) sc.runAsGroup = user.runAsGroup;
  }
  if (!user.runAsUser) return;
  const args = init.args ?? [];
  const i = args.indexOf('-u');
  if (i >= 0 && i + 1 < args.length) args[i + 1] = String(user.runAsUser);
}
