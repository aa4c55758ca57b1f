// Sidecar injection as a pure function: a pod and the injection settings in, the injected pod and its
// RFC 6902 patch out (istio pkg/kube/inject/webhook.go inject/injectPod, inject.go RunTemplate).
import { proxyConfigForPod } from '../config/mesh.js';
import { parseYamlFast } from '../config/yaml.js';
import { GoTemplate, goStringMap, goStruct } from '../gotemplate/index.js';
import { CONTAINER_PORT, withShape } from '../kube/go-json.js';
import { canonicalQuantity } from '../kube/quantity.js';
import type { Container, InjectionSettings, Pod, ProxyConfig } from '../types.js';
import { validateAnnotations } from './annotations.js';
import { ENABLE_CORE_DUMP, findContainer, INIT, placeContainer, PROXY, VALIDATION } from './containers.js';
import { proxyImage, proxyInitImage } from './images.js';
import { openshiftProxyIds, resetSidecarUserMatchingApp } from './openshift.js';
import { reapplyUserContainers, reinsertOverrides, STATUS_ANNOTATION, stripPreviousInjection } from './overrides.js';
import { createPatch, type PatchOp } from './patch.js';
import { injectionSkipReason, type SkipReason } from './policy.js';
import { dumpAppProbers, mergeOrAppendProbers, rewriteAppProbes, shouldRewriteAppProbers } from './probes.js';
import { applyPrometheusMerge, applySecurePrometheusAnnotation } from './prometheus.js';
import { strategicMergePod } from './strategic-merge.js';
import { injectionFuncs } from './template-funcs.js';
import { workloadOf, type WorkloadMeta } from './workload.js';
import { rec } from '../util/json.js';

export type InjectionResult =
  | { kind: 'skipped'; reason: SkipReason }
  | { kind: 'injected'; pod: Pod; patch: PatchOp[] };

/** An error the injector reports to the API server as a denial (allowed: false). */
export class InjectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InjectionError';
  }
}

/** Parsed templates are cached by their text: parsing is the expensive part of a render. */
const parsedTemplates = new Map<string, GoTemplate>();
const MAX_CACHED_TEMPLATES = 64;

function parsedTemplate(name: string, text: string): GoTemplate {
  const key = `${name}\0${text}`;
  let t = parsedTemplates.get(key);
  if (!t) {
    t = GoTemplate.parse(name, text, injectionFuncs);
    if (parsedTemplates.size >= MAX_CACHED_TEMPLATES) parsedTemplates.delete(parsedTemplates.keys().next().value!);
    parsedTemplates.set(key, t);
  }
  return t;
}

/**
 * Injects `input` (a Pod, as the API server sent it). `namespace` is the request's namespace, used
 * when the pod has none yet. `workload` overrides the owner derived from the pod's owner references
 * (kube-inject knows the workload directly). Throws InjectionError when the pod must be denied.
 */
export function injectPod(
  input: Pod,
  namespace: string,
  settings: InjectionSettings,
  warn: (msg: string) => void = () => {},
  workload?: WorkloadMeta,
): InjectionResult {
  // Never diff managedFields, and give the pod its namespace, before taking the "original" (as istiod does).
  // Later steps copy before they change anything (the merge copies the pod), so sharing the rest of
  // `input` is safe and `original` stays as it is for the diff.
  const { managedFields: _managed, ...metaRest } = input.metadata ?? {};
  const meta = { ...metaRest, namespace: input.metadata?.namespace || namespace };
  const original: Pod = { ...input, metadata: meta };
  let pod = original;

  const skip = injectionSkipReason(settings.config, pod, warn);
  if (skip) return { kind: 'skipped', reason: skip };

  let proxyConfig: ProxyConfig;
  try {
    proxyConfig = proxyConfigForPod(settings.mesh, meta.annotations?.['proxy.istio.io/config']);
  } catch {
    // An invalid annotation is reported by annotation validation below, with istiod's wording.
    proxyConfig = settings.mesh.defaultConfig ?? {};
  }
  if (settings.openshiftNamespaceAnnotations) {
    pod = structuredClone(original);
    resetSidecarUserMatchingApp(pod);
  }

  try {
    validateAnnotations(meta.annotations ?? {});
    const proxyEnvs = clusterAndNetworkEnvs(pod, settings);
    const { merged, templatePod } = runTemplates(pod, settings, proxyConfig, workload ?? workloadOf(pod));
    const userApplied = reapplyUserContainers(merged, pod, templatePod, proxyConfig);
    const final = postProcess(userApplied, templatePod, settings, proxyEnvs, pod);
    return { kind: 'injected', pod: final, patch: createPatch(original, final) };
  } catch (e) {
    if (e instanceof InjectionError) throw e;
    throw new InjectionError((e as Error).message, { cause: e });
  }
}

/** ISTIO_META_CLUSTER_ID / ISTIO_META_NETWORK from values, the URL path and the pod's network label. */
function clusterAndNetworkEnvs(pod: Pod, settings: InjectionSettings): Record<string, string> {
  const global = rec(settings.values.global);
  const envs = { ...settings.proxyEnvs };
  let cluster = String(rec(global.multiCluster).clusterName ?? '');
  let network = String(global.network ?? '');
  if (envs.ISTIO_META_CLUSTER_ID) cluster = envs.ISTIO_META_CLUSTER_ID;
  if (envs.ISTIO_META_NETWORK) network = envs.ISTIO_META_NETWORK;
  const label = pod.metadata?.labels?.['topology.istio.io/network'];
  if (label !== undefined) network = label;
  if (cluster !== '') envs.ISTIO_META_CLUSTER_ID = cluster;
  if (network !== '') envs.ISTIO_META_NETWORK = network;
  return envs;
}

function selectTemplates(pod: Pod, settings: InjectionSettings): string[] {
  const ann = pod.metadata?.annotations?.['inject.istio.io/templates'];
  const names = ann !== undefined ? ann.split(',').map((s) => s.trim()) : settings.config.defaultTemplates;
  return names.flatMap((n) => settings.config.aliases[n] ?? [n]);
}

function templateData(stripped: Pod, workload: WorkloadMeta, settings: InjectionSettings, proxyConfig: ProxyConfig): unknown {
  const meta = stripped.metadata ?? {};
  const annotations = meta.annotations ?? {};
  const spec = stripped.spec ?? {};
  const ids = openshiftProxyIds(settings.openshiftNamespaceAnnotations);
  const structContainers = (cs: Container[] | undefined): unknown =>
    cs?.map((c) => goStruct({ ...c, ports: c.ports?.map((p) => withShape(goStruct({ ...p }), CONTAINER_PORT)) }));
  const imageType = String(rec(proxyConfig.image).imageType ?? '');
  return goStruct({
    TypeMeta: goStruct({ kind: workload.kind, apiVersion: workload.apiVersion }),
    DeploymentMeta: goStruct({ name: workload.name, namespace: workload.namespace }),
    ObjectMeta: goStruct({ ...meta, labels: goStringMap({ ...(meta.labels ?? {}) }), annotations: goStringMap({ ...annotations }) }),
    Spec: goStruct({ ...spec, containers: structContainers(spec.containers) ?? [], initContainers: structContainers(spec.initContainers) }),
    ProxyConfig: goStruct({ ...proxyConfig, proxyMetadata: goStringMap({ ...(proxyConfig.proxyMetadata ?? {}) }) }),
    MeshConfig: goStruct({ ...settings.mesh }),
    Values: settings.values,
    Revision: settings.revision,
    ProxyImage: proxyImage(settings.values, imageType, annotations),
    ProxyInitImage: proxyInitImage(settings.values, annotations),
    NativeSidecars: settings.nativeSidecars,
    ProxyUID: ids.uid,
    ProxyGID: ids.gid,
    InboundTrafficPolicyMode: rec(settings.mesh.inboundTrafficPolicy).mode === 'LOCALHOST' ? 'localhost' : 'passthrough',
    CompliancePolicy: settings.compliancePolicy,
  });
}

/** Quantities rendered by templates take the API server's canonical form, as Go's decode gives them. */
function canonicalizeResources(rendered: Record<string, unknown>): void {
  const spec = rec(rendered.spec);
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const c of list) {
      const res = rec(rec(c).resources);
      for (const kind of ['limits', 'requests']) {
        const q = res[kind];
        if (typeof q !== 'object' || q === null) continue;
        for (const [k, v] of Object.entries(q)) {
          if (typeof v === 'string' || typeof v === 'number') (q as Record<string, unknown>)[k] = canonicalQuantity(v);
        }
      }
    }
  }
}

function renderTemplate(name: string, text: string, data: unknown): Record<string, unknown> {
  let out: string;
  try {
    out = parsedTemplate(name, text).execute(data);
  } catch (e) {
    throw new InjectionError(`failed to run injection template: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYamlFast(out, `template ${name}`);
  } catch (e) {
    throw new InjectionError(`failed parsing generated injected YAML (check Istio sidecar injector configuration): ${(e as Error).message}`, { cause: e });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new InjectionError(`template ${name} did not render a map`);
  const rendered = doc as Record<string, unknown>;
  canonicalizeResources(rendered);
  return rendered;
}

function runTemplates(pod: Pod, settings: InjectionSettings, proxyConfig: ProxyConfig, workload: WorkloadMeta): { merged: Pod; templatePod: Pod } {
  const stripped = reinsertOverrides(stripPreviousInjection(pod, settings.mesh));
  const data = templateData(stripped, workload, settings, proxyConfig);
  let merged: Pod = pod;
  let templatePod: Pod = {};
  const nativeAnn = pod.metadata?.annotations?.['sidecar.istio.io/nativeSidecar'];
  const native = nativeAnn === 'true' ? true : nativeAnn === 'false' ? false : settings.nativeSidecars;
  for (const name of selectTemplates(pod, settings)) {
    const text = settings.config.templates[name];
    if (text === undefined) {
      throw new InjectionError(`requested template "${name}" not found; have ${Object.keys(settings.config.templates).sort().join(', ')}`);
    }
    const rendered = renderTemplate(name, text, data);
    // The template pod is only ever read for names (status annotation, user overrides), so only names are merged.
    templatePod = strategicMergePod(templatePod, namesOf(rendered), true) as Pod;
    // A native sidecar replaces a user's istio-proxy in containers: move it so the merge lands on it.
    if (native && templatePod.spec?.initContainers?.some((c) => c.name === PROXY) && merged.spec?.containers?.some((c) => c.name === PROXY)) {
      merged = structuredClone(merged);
      const spec = merged.spec!;
      const proxy = spec.containers!.find((c) => c.name === PROXY)!;
      spec.containers = spec.containers!.filter((c) => c !== proxy);
      spec.initContainers = [...(spec.initContainers ?? []), proxy];
    }
    merged = strategicMergePod(merged, rendered, true) as Pod;
  }
  return { merged, templatePod };
}

const NAMED_LISTS = ['containers', 'initContainers', 'volumes', 'imagePullSecrets'];

/** The rendered overlay reduced to the names of its list items (and their patch directives). */
function namesOf(rendered: Record<string, unknown>): Record<string, unknown> {
  const spec = rec(rendered.spec);
  const out: Record<string, unknown> = {};
  for (const k of NAMED_LISTS) {
    const list = spec[k];
    if (!Array.isArray(list)) continue;
    out[k] = list.map((x) => {
      const r = rec(x);
      const item: Record<string, unknown> = {};
      for (const key of ['name', '$patch']) if (key in r) item[key] = r[key];
      return item;
    });
  }
  return { spec: out };
}

function injectionStatus(templatePod: Pod, revision: string): string {
  const spec = templatePod.spec ?? {};
  const names = (l: Array<{ name: string }> | undefined): string[] | null => (l && l.length > 0 ? l.map((x) => x.name) : null);
  return JSON.stringify({
    initContainers: names(spec.initContainers),
    containers: names(spec.containers),
    volumes: names(spec.volumes),
    imagePullSecrets: names(spec.imagePullSecrets),
    revision: revision || 'default',
  });
}

function holdApplication(original: Pod, settings: InjectionSettings): boolean {
  // istiod reads this from the mesh config with the pod's proxy.istio.io/config applied.
  const pc = proxyConfigForPod(settings.mesh, original.metadata?.annotations?.['proxy.istio.io/config']);
  const fromValues = rec(rec(settings.values.global).proxy).holdApplicationUntilProxyStarts;
  return pc.holdApplicationUntilProxyStarts === true || fromValues === true;
}

function postProcess(pod: Pod, templatePod: Pod, settings: InjectionSettings, proxyEnvs: Record<string, string>, original: Pod): Pod {
  const meta = (pod.metadata ??= {});
  const annotations = (meta.annotations ??= {});
  const labels = (meta.labels ??= {});
  const sidecar = findContainer(pod, PROXY);
  if (sidecar && Object.keys(proxyEnvs).length > 0) {
    // URL and values cluster/network env go last, sorted, replacing the template's entries.
    const kept = (sidecar.env ?? []).filter((e) => !(e.name in proxyEnvs));
    sidecar.env = [...kept, ...Object.keys(proxyEnvs).sort().map((k) => ({ name: k, value: proxyEnvs[k]! }))];
  }
  const statusPort = Number(settings.mesh.defaultConfig?.statusPort ?? 15020);
  applyPrometheusMerge(pod, settings.mesh, statusPort);
  applySecurePrometheusAnnotation(pod);
  if (sidecar) {
    const spec = rec(settings.values.sidecarInjectorWebhook).rewriteAppHTTPProbe === true;
    if (shouldRewriteAppProbers(annotations, spec)) {
      const probers = dumpAppProbers(pod, statusPort);
      if (probers !== '') sidecar.env = mergeOrAppendProbers(STATUS_ANNOTATION in annotations, sidecar.env ?? [], probers);
      rewriteAppProbes(pod, statusPort);
    }
  }
  if (proxyEnvs.ISTIO_META_NETWORK !== undefined) labels['topology.istio.io/network'] = proxyEnvs.ISTIO_META_NETWORK;
  annotations[STATUS_ANNOTATION] = injectionStatus(templatePod, settings.revision);
  Object.assign(annotations, settings.config.injectedAnnotations);
  reorder(pod, holdApplication(original, settings));
  return pod;
}

function reorder(pod: Pod, holdApplication: boolean): void {
  const spec = (pod.spec ??= {});
  spec.containers = placeContainer(spec.containers, PROXY, holdApplication ? 'first' : 'last');
  let inits = spec.initContainers;
  if (inits?.some((c) => c.name === PROXY)) {
    for (const n of [ENABLE_CORE_DUMP, PROXY, VALIDATION, INIT]) inits = placeContainer(inits, n, 'first');
  } else {
    inits = placeContainer(inits, VALIDATION, 'first');
    inits = placeContainer(inits, INIT, 'last');
    inits = placeContainer(inits, ENABLE_CORE_DUMP, 'last');
  }
  if (inits.length > 0) spec.initContainers = inits;
  else delete spec.initContainers;
}

