// The objects meshd's chart owns, projected to what they mean, so that meshd's rendering and istiod's can be
// compared field by field. Each rendered object is given a role (the same role on both sides, whatever its
// name) and a projection that keeps the settings the values decide and drops what is each binary's own
// (image, arguments, probes, fixed volumes, chart bookkeeping labels). README.md beside this file lists the
// mapping and why each field is in or out.
import { parse } from 'yaml';
import { isDeepStrictEqual } from 'node:util';

export type Obj = Record<string, any>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Labels either chart sets for its own bookkeeping; everything else on an object came from the values. */
const FIXED_LABELS = new Set([
  'app', 'istio', 'istio.io/rev', 'release', 'install.operator.istio.io/owning-resource',
  'operator.istio.io/component', 'app.kubernetes.io/name', 'app.kubernetes.io/instance',
  'app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of', 'app.kubernetes.io/version', 'helm.sh/chart',
  'sidecar.istio.io/inject', 'istio.io/dataplane-mode',
]);
/** Environment of the discovery container that is one binary's own: the remote kubeconfig path istiod
 * mounts, Go's runtime settings, and meshd's pod IP. */
const OWN_ENV = new Set(['KUBECONFIG', 'GODEBUG', 'GOMAXPROCS', 'POD_IP']);
/** Volumes each chart gives its own container; the rest come from `volumes` / `volumeMounts`. */
const OWN_VOLUMES = new Set(['tmp', 'local-certs', 'istio-token', 'cacerts', 'istio-kubeconfig',
  'istio-csr-dns-cert',
  'istio-csr-ca-configmap', 'extracacerts']);

const valuesLabels = (labels: Obj | undefined): Obj =>
  Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !FIXED_LABELS.has(k)));
/** Leaves out keys whose value is undefined, so absent and unset compare equal. */
const clean = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function envMap(env: Obj[] | undefined): Obj {
  const out: Obj = {};
  for (const e of env ?? []) if (!OWN_ENV.has(e.name)) out[e.name] = e.valueFrom ?? String(e.value ?? '');
  return out;
}

function deployment(d: Obj): Obj {
  const pod = d.spec?.template ?? {};
  const c = (pod.spec?.containers ?? []).find((x: Obj) => x.name === 'discovery') ?? {};
  return clean({
    replicas: d.spec?.replicas,
    strategy: d.spec?.strategy,
    selector: d.spec?.selector,
    deploymentLabels: valuesLabels(d.metadata?.labels),
    deploymentAnnotations: d.metadata?.annotations,
    podLabels: valuesLabels(pod.metadata?.labels),
    podAnnotations: pod.metadata?.annotations,
    serviceAccountName: pod.spec?.serviceAccountName,
    priorityClassName: pod.spec?.priorityClassName,
    nodeSelector: pod.spec?.nodeSelector,
    affinity: pod.spec?.affinity,
    tolerations: pod.spec?.tolerations,
    topologySpreadConstraints: pod.spec?.topologySpreadConstraints,
    initContainers: pod.spec?.initContainers,
    env: envMap(c.env),
    resources: c.resources,
    terminationMessagePolicy: c.terminationMessagePolicy,
    seccompProfile: c.securityContext?.seccompProfile,
    volumes: (pod.spec?.volumes ?? []).filter((v: Obj) => !OWN_VOLUMES.has(v.name)),
    volumeMounts: (c.volumeMounts ?? []).filter((v: Obj) => !OWN_VOLUMES.has(v.name)),
  });
}

/** A webhook as the API server stores it: its defaults filled in, so leaving one out and writing it agree. */
function webhook(w: Obj): Obj {
  const cc = w.clientConfig ?? {};
  const clientConfig = cc.service ? { ...cc, service: { port: 443, ...cc.service } } : cc;
  const defaults = { timeoutSeconds: 10, matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector:
    {} };
  return { ...defaults, ...w, clientConfig };
}

const webhooks = (o: Obj): Obj => clean({
  name: o.metadata?.name, annotations: o.metadata?.annotations, webhooks: (o.webhooks ?? []).map(webhook),
});

const servicePorts = (ports: Obj[] | undefined): Obj[] =>
  (ports ?? [])
    .map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: p.protocol ??
      'TCP' }))
    .sort((a, b) => a.port - b.port);

function service(s: Obj): Obj {
  return clean({
    name: s.metadata?.name, annotations: s.metadata?.annotations, ports: servicePorts(s.spec?.ports),
    selector: s.spec?.selector, type: s.spec?.type, externalName: s.spec?.externalName,
    ipFamilyPolicy: s.spec?.ipFamilyPolicy, ipFamilies: s.spec?.ipFamilies,
    trafficDistribution: s.spec?.trafficDistribution,
  });
}

const parseText = (text: unknown): unknown => (typeof text === 'string' ? parse(text) : text);

function meshConfigMap(cm: Obj): Obj {
  const { mesh, meshNetworks } = cm.data ?? {};
  return { name: cm.metadata?.name, mesh: parseText(mesh) ?? {}, meshNetworks: parseText(meshNetworks) ??
    {} };
}

function injectorConfigMap(cm: Obj, builtins: ReadonlySet<string>): Obj {
  const config = (parseText(cm.data?.config) ?? {}) as Obj;
  // istiod's chart writes its built-in templates out; meshd's leaves them to meshd's own built-ins.
  const templates = Object.fromEntries(Object.entries(config.templates ??
    {}).filter(([k]) => !builtins.has(k)));
  return {
    name: cm.metadata?.name,
    values: JSON.parse(cm.data?.values ?? '{}'),
    config: {
      defaultTemplates: config.defaultTemplates ?? ['sidecar'],
      policy: config.policy,
      alwaysInjectSelector: config.alwaysInjectSelector ?? [],
      neverInjectSelector: config.neverInjectSelector ?? [],
      injectedAnnotations: config.injectedAnnotations ?? {},
      templates,
    },
  };
}

const binding = (b: Obj): Obj => ({ roleRef: b.roleRef, subjects: b.subjects });

export interface Role {
  role: string;
  /** The projection compared between the two sides. */
  view: Obj;
}

/** Names istiod's injector ConfigMap writes templates under that meshd serves from its own built-ins. */
export const ISTIOD_BUILTIN_TEMPLATES = new Set([
  'sidecar', 'gateway', 'grpc-simple', 'grpc-agent', 'waypoint', 'kube-gateway', 'agentgateway',
  'agentgateway-waypoint',
]);

const meshName = /^istio(-[a-z0-9.-]+)?$/;

/** The projection of an object meshd owns, or undefined for any other. */
function view(o: Obj, name: string, istiod: boolean): Obj | undefined {
  const remote = /^istiod.*-remote$/.test(name);
  const injector = name.startsWith('istio-sidecar-injector');
  const stable = name.startsWith('stable-channel-policy');
  switch (o.kind) {
    case 'Deployment': return istiod ? deployment(o) : undefined;
    case 'HorizontalPodAutoscaler': case 'PodDisruptionBudget': return istiod ? (o.spec ?? {}) : undefined;
    case 'Service': return istiod || remote ? service(o) : undefined;
    case 'EndpointSlice':
      if (!istiod && !remote) return undefined;
      return { addressType: o.addressType, endpoints: o.endpoints, ports: o.ports };
    case 'ServiceAccount':
      if (!istiod) return undefined;
      return clean({ imagePullSecrets: o.imagePullSecrets, annotations: o.metadata?.annotations });
    case 'ConfigMap':
      if (meshName.test(name) && o.data?.mesh !== undefined) return meshConfigMap(o);
      return injector ? injectorConfigMap(o, ISTIOD_BUILTIN_TEMPLATES) : undefined;
    case 'MutatingWebhookConfiguration': return injector ? webhooks(o) : undefined;
    case 'ValidatingWebhookConfiguration':
      if (!name.startsWith('istio-validator') && name !== 'istiod-default-validator') return undefined;
      return webhooks(o);
    // RBAC: which objects exist and whom they bind; the rules are each binary's own (meshd grants only
    // what it does).
    case 'ClusterRole': return name.startsWith('istiod-clusterrole') ? {} : undefined;
    case 'ClusterRoleBinding': return name.startsWith('istiod-clusterrole') ? binding(o) : undefined;
    case 'Role': return istiod ? {} : undefined;
    case 'RoleBinding': return istiod ? binding(o) : undefined;
    // The stable channel's policy: what it applies to and how; its CEL is meshd's own wording of the same
    // rules (checked on a real API server by test/e2e/chart.test.ts), so not compared as text.
    case 'ValidatingAdmissionPolicy':
      return stable
        ? { failurePolicy: o.spec?.failurePolicy, matchConstraints: o.spec?.matchConstraints } : undefined;
    case 'ValidatingAdmissionPolicyBinding': return stable ? (o.spec ?? {}) : undefined;
    default: return undefined;
  }
}

/**
 * The role of a rendered object among those meshd owns (kind, namespace and istiod's name for it), with its
 * projection; undefined for objects meshd does not render by design (see `notMapped`).
 */
export function ownedRole(o: Obj): Role | undefined {
  const name: string = o.metadata?.name ?? '';
  const v = view(o, name, /^istiod(-[a-z0-9.-]+)?$/.test(name));
  if (!v) return undefined;
  const ns = o.metadata?.namespace;
  const suffix = o.kind === 'ConfigMap' && meshName.test(name) ? ' (mesh)' : '';
  return { role: `${o.kind} ${ns ? `${ns}/` : ''}${name}${suffix}`, view: v };
}

/** Objects istiod's chart renders that meshd does not, and why; anything else unowned is another chart's. */
export function notMapped(o: Obj): string | undefined {
  const name: string = o.metadata?.name ?? '';
  const is = (kind: string, re: RegExp): boolean => o.kind === kind && re.test(name);
  if (is('ConfigMap', /^values(-|$)/)) return 'the chart values dumped for debugging; read by nothing';
  if (/^istio-reader-clusterrole/.test(name)) return 'remote-secret reader RBAC (meshd: no multicluster)';
  if (/^istiod-gateway-controller/.test(name)) return 'Gateway API deployment controller RBAC (meshd: none)';
  if (is('NetworkPolicy', /^istiod/)) return 'NetworkPolicy for istiod (global.networkPolicy)';
  if (is('ConfigMap',
    /^pilot-jwks-extra-cacerts/)) return 'extra JWKS root CAs for pilot-discovery (jwksResolverExtraRootCA)';
  if (is('MutatingWebhookConfiguration',
    /^istio-revision-tag/)) return 'revision tag webhooks (revisionTags)';
  const classDefaults = o.metadata?.labels?.['gateway.istio.io/defaults-for-class'];
  if (o.kind === 'ConfigMap' && classDefaults) return 'Gateway class defaults (gatewayClasses)';
  return undefined;
}

export interface Difference {
  role: string;
  path: string;
  meshd: unknown;
  istiod: unknown;
}

/** Field-level differences between two projections, as paths into them. */
export function diffViews(role: string, meshd: unknown, istiod: unknown, path = ''): Difference[] {
  if (isDeepStrictEqual(meshd, istiod)) return [];
  if (isObj(meshd) && isObj(istiod)) {
    const keys = [...new Set([...Object.keys(meshd), ...Object.keys(istiod)])].sort();
    return keys.flatMap((k) => diffViews(role, meshd[k], istiod[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(meshd) && Array.isArray(istiod) && meshd.length === istiod.length) {
    return meshd.flatMap((m, i) => diffViews(role, m, istiod[i], `${path}[${i}]`));
  }
  return [{ role, path: path || '(whole)', meshd, istiod }];
}

/** Rendered objects, owned ones by role. */
export function owned(docs: Obj[]): { roles: Map<string, Obj>; unmapped: Map<string, string> } {
  const roles = new Map<string, Obj>();
  const unmapped = new Map<string, string>();
  for (const d of docs) {
    const r = ownedRole(d);
    if (r) roles.set(r.role, r.view);
    const why = notMapped(d);
    if (why) unmapped.set(`${d.kind} ${d.metadata?.name}`, why);
  }
  return { roles, unmapped };
}
