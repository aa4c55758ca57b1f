// What `istioctl validate` checks beyond Istio config (istio istioctl/pkg/validate, operator/pkg/apis/validation):
// Kubernetes Services (port names and appProtocols Istio can select a protocol from), Deployments (canonical
// service labels, a warning) and IstioOperator objects (strict decoding of the spec, hub, tag, revision,
// gateway names, root-only target ports, proxy port and IP range values).
import { goQuote } from '../gotemplate/values.js';
import { isCIDR } from '../net/ip.js';
import { isDNS1123Label, isObj, list, parseProtocol, str, type Obj } from './core.js';

export const ISTIO_NAMESPACE = 'istio-system';
const REQUIREMENTS = 'https://istio.io/latest/docs/ops/deployment/requirements/';
const PROTOCOL_SELECTION = 'https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/';

export interface Findings {
  errors: string[];
  warnings: string[];
}

const meta = (o: Obj): Obj => (isObj(o.metadata) ? o.metadata : {});

/** validateServicePortPrefix: ports without a protocol Istio can select are errors (UDP ports excepted). */
export function serviceErrors(svc: Obj, istioNamespace = ISTIO_NAMESPACE): string[] {
  const m = meta(svc);
  // The object's own namespace, as written: a Service without one is checked.
  if (str(m.namespace) === istioNamespace) return [];
  const id = `${str(m.name)}/${str(m.namespace)}/:`;
  const errs: string[] = [];
  for (const item of list(isObj(svc.spec) ? svc.spec.ports : undefined)) {
    const p = isObj(item) ? item : {};
    if (typeof p.protocol === 'string' && p.protocol.toUpperCase() === 'UDP') continue;
    if (p.appProtocol !== undefined && p.appProtocol !== null) {
      if (!parseProtocol(str(p.appProtocol))) errs.push(`service "${id}" doesn't follow Istio protocol selection. This is not recommended, See ${PROTOCOL_SELECTION}`);
    } else if (p.name === undefined || p.name === null) {
      errs.push(`service "${id}" has an unnamed port. This is not recommended, See ${REQUIREMENTS}`);
    } else if (!parseProtocol(str(p.name).split('-')[0]!)) {
      errs.push(`service "${id}" port "${str(p.name)}" does not follow the Istio naming convention. See ${REQUIREMENTS}`);
    }
  }
  return errs;
}

const NAME_LABELS = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'];
const REVISION_LABELS = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'];

/** Go's %q of a map[string]string: map["k":"v" ...], keys sorted. */
function goMap(labels: Record<string, string>): string {
  return `map[${Object.keys(labels).sort().map((k) => `${goQuote(k)}:${goQuote(labels[k]!)}`).join(' ')}]`;
}

/** validateDeploymentLabel: a pod template without canonical service labels is a warning; labels that are not strings an error. */
export function deploymentFindings(dep: Obj, istioNamespace = ISTIO_NAMESPACE): Findings {
  const m = meta(dep);
  if (str(m.namespace) === istioNamespace) return { errors: [], warnings: [] };
  const template = isObj(dep.spec) && isObj(dep.spec.template) ? dep.spec.template : undefined;
  const raw = template && isObj(template.metadata) ? template.metadata.labels : undefined;
  const labels: Record<string, string> = {};
  if (isObj(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string') {
        const what = `contains non-string value in the map under key ${goQuote(k)}: ${JSON.stringify(v)} is of the type ${goType(v)}`;
        return { errors: [`.metadata.labels accessor error: ${what}, expected string`], warnings: [] };
      }
      labels[k] = v;
    }
  }
  const has = (keys: string[]): boolean => keys.some((k) => k in labels);
  if (has(NAME_LABELS) && has(REVISION_LABELS)) return { errors: [], warnings: [] };
  const id = `${str(m.name)}/${str(m.namespace)}:`;
  return { errors: [], warnings: [`deployment "${id}" may not provide Istio metrics and telemetry labels: ${goMap(labels)}. See ${REQUIREMENTS}`] };
}

function goType(v: unknown): string {
  // istioctl decodes YAML through encoding/json into map[string]any: every number is a float64.
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (v === null) return '<nil>';
  return typeof v === 'object' ? 'map[string]interface {}' : 'string';
}

// The Go struct an IstioOperator decodes into (with DisallowUnknownFields): field names, and which are strings.
type Shape = { fields: Record<string, Shape | 'string' | 'uint32' | 'any' | 'list'>; goName: string };
const any = 'any' as const;
const K8S: Shape = {
  goName: 'KubernetesResources',
  fields: {
    affinity: any, env: any, hpaSpec: any, imagePullPolicy: 'string', nodeSelector: any, podDisruptionBudget: any,
    podAnnotations: any, priorityClassName: 'string', readinessProbe: any, replicaCount: 'uint32', resources: any,
    service: any, strategy: any, tolerations: any, serviceAnnotations: any, securityContext: any, volumes: any,
    volumeMounts: any, overlays: any,
  },
};
const COMPONENT: Shape = { goName: 'ComponentSpec', fields: { enabled: any, namespace: 'string', hub: 'string', tag: any, k8s: K8S } };
const GATEWAY: Shape = { goName: 'GatewayComponentSpec', fields: { ...COMPONENT.fields, name: 'string', label: any } };
const COMPONENTS: Shape = {
  goName: 'IstioComponentSpec',
  fields: { base: { goName: 'BaseComponentSpec', fields: { enabled: any, k8s: K8S } }, pilot: COMPONENT, cni: COMPONENT, ztunnel: COMPONENT, istiodRemote: COMPONENT, ingressGateways: 'list', egressGateways: 'list' },
};
const SPEC: Shape = {
  goName: 'IstioOperatorSpec',
  fields: {
    profile: 'string', installPackagePath: 'string', hub: 'string', tag: any, namespace: 'string', revision: 'string',
    compatibilityVersion: 'string', meshConfig: any, components: COMPONENTS, values: any, unvalidatedValues: any,
  },
};
const OBJECT_META = ['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];

const jsonKind = (v: unknown): string => (Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v === 'object' ? 'object' : typeof v);

/** encoding/json matches field names exactly, else case-insensitively. */
function field(names: string[], key: string): string | undefined {
  return names.includes(key) ? key : names.find((n) => n.toLowerCase() === key.toLowerCase());
}

/** The first error of decoding `v` into `shape`, in encoding/json's words. */
function decodeError(v: unknown, shape: Shape, path: string): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (!isObj(v)) return `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${path ? `.${path}` : ''} of type apis.${shape.goName}`;
  for (const [key, value] of Object.entries(v)) {
    const name = field(Object.keys(shape.fields), key);
    if (!name) return `json: unknown field "${key}"`;
    const type = shape.fields[name]!;
    const at = path ? `${path}.${name}` : name;
    if (value === null) continue;
    if (type === 'string' && typeof value !== 'string') return `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${shape.goName}.${at} of type string`;
    if (type === 'uint32' && !(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < 2 ** 32)) {
      return `json: cannot unmarshal ${typeof value === 'number' ? `number ${value}` : jsonKind(value)} into Go struct field ${shape.goName}.${at} of type uint32`;
    }
    if (type === 'list') {
      if (!Array.isArray(value)) return `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${shape.goName}.${at} of type []apis.GatewayComponentSpec`;
      for (const gw of value) {
        const e = decodeError(gw, GATEWAY, at);
        if (e) return e;
      }
    } else if (typeof type === 'object') {
      const e = decodeError(value, type, at);
      if (e) return e;
    }
  }
  return undefined;
}

const OBJECT_NAME = /[a-z0-9.-]{1,254}/;
const TAG = /^[\w][\w.-]{0,127}$/;
const REPOSITORY_CHARS = /^[a-z0-9_\-./]+$/;

/** go-containerregistry's name.NewRepository, reduced to its character rules. */
function hubError(hub: string): string | undefined {
  const repo = `${hub}/pilot`;
  const parts = repo.split('/');
  const first = parts[0]!;
  const path = first.includes('.') || first.includes(':') || first === 'localhost' ? parts.slice(1).join('/') : repo;
  if (path === '' || !REPOSITORY_CHARS.test(path)) return `bad hub: repository can only contain the characters \`abcdefghijklmnopqrstuvwxyz0123456789_-./\`: ${path}`;
  return undefined;
}

function gatewayNameErrors(components: Obj): string | undefined {
  // Istio's messages spell "inressGateways".
  for (const [key, label] of [['egressGateways', 'egressGateways.name'], ['ingressGateways', 'inressGateways.name']] as const) {
    for (const gw of list(components[key])) {
      const name = str(isObj(gw) ? gw.name : undefined);
      if (name !== '' && (OBJECT_NAME.exec(name)?.[0] ?? '').length !== name.length) return `invalid value ${label}: ${name}`;
    }
  }
  return undefined;
}

const dig = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((x, k) => (isObj(x) ? x[k] : undefined), v);

function proxyValueErrors(values: Obj): string[] {
  const errs: string[] = [];
  for (const key of ['includeIPRanges', 'excludeIPRanges']) {
    const v = dig(values, 'global', 'proxy', key);
    if (typeof v !== 'string' || v === '' || v === '*') continue;
    for (const r of v.split(',')) if (!isCIDR(r)) errs.push(`global.proxy.${key} netip.ParsePrefix(${JSON.stringify(r)}): invalid prefix`);
  }
  for (const key of ['includeInboundPorts', 'excludeInboundPorts']) {
    const v = dig(values, 'global', 'proxy', key);
    if (typeof v !== 'string' || v === '') continue;
    for (const p of v.split(',')) {
      if (p === '*' || p === '') continue;
      if (!/^[+-]?\d+$/.test(p) || Math.abs(Number(p)) > 2 ** 31) errs.push(`global.proxy.${key} : strconv.ParseInt: parsing ${JSON.stringify(p)}: invalid syntax`);
      else if (Number(p) < 0 || Number(p) > 65535) errs.push(`value global.proxy.${key}:${Number(p)} falls outside range [0, 65535]`);
    }
  }
  return errs;
}

/** checkServicePorts: gateway target ports below 1024 need runAsRoot. */
function rootPortErrors(components: Obj, values: Obj): string[] {
  const errs: string[] = [];
  for (const [key, gateway] of [['ingressGateways', 'istio-ingressgateway'], ['egressGateways', 'istio-egressgateway']] as const) {
    if (dig(values, 'gateways', gateway, 'runAsRoot') === true) continue;
    for (const gw of list(components[key])) {
      for (const p of list(dig(gw, 'k8s', 'service', 'ports'))) {
        if (!isObj(p) || typeof p.targetPort === 'string') continue;
        const tp = typeof p.targetPort === 'number' ? p.targetPort : 0;
        const port = typeof p.port === 'number' ? p.port : 0;
        if (tp === 0 && port > 1024) continue;
        if (tp < 1024) {
          errs.push(`port ${str(p.name)}/${port} in gateway ${str(dig(gw, 'name'))} invalid: targetPort is set to ${tp}, which requires root. Set targetPort to be greater than 1024 or configure values.gateways.${gateway}.runAsRoot=true`);
        }
      }
    }
  }
  for (const p of list(dig(values, 'gateways', 'istio-ingressgateway', 'ingressPorts'))) {
    if (!isObj(p) || typeof p.port !== 'number' || (p.targetPort !== undefined && p.targetPort !== null && typeof p.targetPort !== 'number')) continue;
    const tp = typeof p.targetPort === 'number' ? Math.trunc(p.targetPort) : 0;
    const port = Math.trunc(p.port);
    if (tp === 0 && port > 1024) continue;
    if (tp < 1024) errs.push(`port ${port} is invalid: targetPort is set to ${tp}, which requires root. Set targetPort to be greater than 1024 or configure values.gateways.istio-ingressgateway.runAsRoot=true`);
  }
  return errs;
}

function replicaWarnings(components: Obj, values: Obj): string[] {
  const warnings: string[] = [];
  if (dig(values, 'pilot', 'autoscaleEnabled') === true) {
    const n = dig(components, 'pilot', 'k8s', 'replicaCount');
    if (typeof n === 'number' && n > 1) warnings.push('components.pilot.k8s.replicaCount should not be set when values.pilot.autoscaleEnabled is true');
  }
  for (const [key, type] of [['ingressGateways', 'ingress'], ['egressGateways', 'egress']] as const) {
    if (dig(values, 'gateways', `istio-${type}gateway`, 'autoscaleEnabled') !== true) continue;
    for (const gw of list(components[key])) {
      const n = dig(gw, 'k8s', 'replicaCount');
      if (typeof n === 'number' && n !== 0) {
        warnings.push(`components.${type}Gateways[name=${str(dig(gw, 'name'))}].k8s.replicaCount should not be set when values.gateways.istio-${type}gateway.autoscaleEnabled is true`);
      }
    }
  }
  return warnings;
}

/** ParseAndValidateIstioOperator without a cluster: a decoding error alone, else every rule's findings. */
export function istioOperatorFindings(iop: Obj): Findings {
  const top = Object.keys(iop).find((k) => !field(['apiVersion', 'kind', 'metadata', 'spec'], k));
  let decode = top ? `json: unknown field "${top}"` : undefined;
  if (!decode && isObj(iop.metadata)) {
    const k = Object.keys(iop.metadata).find((x) => !field(OBJECT_META, x));
    if (k) decode = `json: unknown field "${k}"`;
  }
  decode ??= decodeError(iop.spec, SPEC, 'spec');
  const spec = isObj(iop.spec) ? iop.spec : {};
  if (!decode && spec.values !== undefined && spec.values !== null && !isObj(spec.values)) {
    decode = `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(spec.values)} into Go value of type apis.Values`;
  }
  if (decode) return { errors: [`could not unmarshal: ${decode}`], warnings: [] };
  const values = isObj(spec.values) ? spec.values : {};
  const components = isObj(spec.components) ? spec.components : {};
  const errors = [...rootPortErrors(components, values), ...proxyValueErrors(values)];
  if (typeof spec.hub === 'string' && spec.hub !== '') {
    const e = hubError(spec.hub);
    if (e) errors.push(e);
  }
  if (spec.tag !== undefined && spec.tag !== null && !TAG.test(String(spec.tag))) {
    errors.push(`bad tag: tag can only contain the characters \`abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ\`: ${String(spec.tag)}`);
  }
  const revision = str(spec.revision);
  if (revision !== '' && !isDNS1123Label(revision)) errors.push(`invalid revision specified: ${revision}`);
  const names = gatewayNameErrors(components);
  if (names) errors.push(names);
  return { errors, warnings: replicaWarnings(components, values) };
}

// istioctl decodes Istio config strictly (the webhook retries without): an unknown spec field is an error.
// The spec messages' fields by proto name (jsonpb also takes the lowerCamel JSON name), and full names.
const SPEC_FIELDS: Record<string, [string, string[]]> = {
  VirtualService: ['istio.networking.v1alpha3', ['hosts', 'gateways', 'http', 'tls', 'tcp', 'export_to']],
  DestinationRule: ['istio.networking.v1alpha3', ['host', 'traffic_policy', 'subsets', 'export_to', 'workload_selector']],
  Gateway: ['istio.networking.v1alpha3', ['servers', 'selector']],
  ServiceEntry: ['istio.networking.v1alpha3', ['hosts', 'addresses', 'ports', 'location', 'resolution', 'endpoints', 'workload_selector', 'export_to', 'subject_alt_names']],
  Sidecar: ['istio.networking.v1alpha3', ['workload_selector', 'ingress', 'egress', 'inbound_connection_pool', 'outbound_traffic_policy']],
  WorkloadEntry: ['istio.networking.v1alpha3', ['address', 'ports', 'labels', 'network', 'locality', 'weight', 'service_account']],
  WorkloadGroup: ['istio.networking.v1alpha3', ['metadata', 'template', 'probe']],
  EnvoyFilter: ['istio.networking.v1alpha3', ['workload_selector', 'targetRefs', 'config_patches', 'priority']],
  ProxyConfig: ['istio.networking.v1beta1', ['selector', 'concurrency', 'environment_variables', 'image']],
  AuthorizationPolicy: ['istio.security.v1beta1', ['selector', 'targetRef', 'targetRefs', 'rules', 'action', 'provider']],
  RequestAuthentication: ['istio.security.v1beta1', ['selector', 'targetRef', 'targetRefs', 'jwt_rules']],
  PeerAuthentication: ['istio.security.v1beta1', ['selector', 'mtls', 'port_level_mtls']],
  Telemetry: ['istio.telemetry.v1alpha1', ['selector', 'targetRef', 'targetRefs', 'tracing', 'metrics', 'access_logging']],
  WasmPlugin: ['istio.extensions.v1alpha1', ['selector', 'targetRef', 'targetRefs', 'url', 'sha256', 'image_pull_policy', 'image_pull_secret', 'verification_key', 'plugin_config', 'plugin_name', 'phase', 'priority', 'fail_strategy', 'vm_config', 'match', 'type']],
  TrafficExtension: ['istio.extensions.v1alpha1', ['selector', 'targetRefs', 'phase', 'priority', 'match', 'wasm', 'lua']],
};

const camel = (s: string): string => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** jsonpb's strict error for the first spec field `kind`'s message does not have (top level only). */
export function unknownSpecField(kind: string, spec: unknown): string | undefined {
  const known = SPEC_FIELDS[kind];
  if (!known || !isObj(spec)) return undefined;
  const [pkg, fields] = known;
  const names = new Set([...fields, ...fields.map(camel)]);
  const unknown = Object.keys(spec).find((k) => !names.has(k));
  return unknown === undefined ? undefined : `unknown field ${goQuote(unknown)} in ${pkg}.${kind}`;
}
