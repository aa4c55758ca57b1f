// The functions istiod adds to injection templates (istio pkg/kube/inject/template.go), on top of sprig.
import { proxyConfigToJSON } from '../config/mesh.js';
import { empty, formatValue, type FuncMap } from '../gotemplate/index.js';
import { goJSONAny } from '../kube/go-json.js';
import { goYaml } from '../kube/go-yaml.js';
import type { ProxyConfig } from '../types.js';
import { rec } from '../util/json.js';

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : formatValue(v);
}

/** fmt.Sprint: a missing value passed to a func is a nil interface, which prints "<nil>". */
function sprint(v: unknown): string {
  return v === undefined ? '<nil>' : formatValue(v);
}

export function excludeInboundPort(port: unknown, excluded: unknown): string {
  const portStr = sprint(port).trim();
  const list = str(excluded);
  if (portStr === '' || portStr === '0') return list;
  const out: string[] = [];
  for (const p of list.split(',')) {
    if (p === portStr) return list;
    if (p.trim() !== '') out.push(p.trim());
  }
  out.push(portStr);
  return out.join(',');
}

export function appendMultusNetwork(existing: unknown, network: unknown): string {
  const value = str(existing);
  const net = str(network);
  if (value === '') return net;
  const i = value.lastIndexOf(']');
  if (i !== -1) {
    let networks: unknown;
    try {
      networks = JSON.parse(value);
    } catch {
      return value; // not valid JSON: leave the user's value alone
    }
    if (!Array.isArray(networks)) return value;
    const slash = net.indexOf('/');
    const [ns, name] = slash === -1 ? ['', net] : [net.slice(0, slash), net.slice(slash + 1)];
    for (const n of networks) {
      const r = rec(n);
      if (r.name === name && (r.namespace ?? '') === ns) return value;
    }
    const entry = ns === '' ? `, {"name": "${name}"}` : `, {"name": "${name}", "namespace": "${ns}"}`;
    return value.slice(0, i) + entry + value.slice(i);
  }
  if (value.split(',').some((n) => n.trim() === net)) return value;
  return `${value}, ${net}`;
}

/** Recursively drops nulls; maps and lists left empty by that become null (istio omitNil). */
export function omitNil(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) {
    if (!v.some((x) => x === null || x === undefined || hasNil(x))) return v;
    const out = v.map(omitNil).filter((x) => x !== null);
    return out.length === 0 ? null : out;
  }
  if (typeof v === 'object') {
    if (!hasNil(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const f = omitNil(x);
      if (f !== null) out[k] = f;
    }
    return Object.keys(out).length === 0 ? null : out;
  }
  return v;
}

function hasNil(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.some(hasNil);
  if (typeof v === 'object') return Object.values(v).some(hasNil);
  return false;
}

/** OTEL_RESOURCE_ATTRIBUTES when a mesh OpenTelemetry provider asks for semantic-convention enrichment. */
export function otelResourceAttributes(mesh: unknown, annotations: unknown, labels: unknown, namespace: unknown, containers: unknown): string {
  const providers = rec(mesh).extensionProviders;
  const enabled =
    Array.isArray(providers) && providers.some((p) => rec(rec(p).opentelemetry).serviceAttributeEnrichment === 'OTEL_SEMANTIC_CONVENTIONS');
  if (!enabled) return '';
  const ann = rec(annotations);
  const lbl = rec(labels);
  const ns = str(namespace);
  const cs = Array.isArray(containers) ? containers.map(rec) : [];
  const attrs: string[] = [];
  const a = (k: string): string => str(ann[`resource.opentelemetry.io/${k}`]);
  if (a('service.namespace')) attrs.push(`service.namespace=${a('service.namespace')}`);
  else if (ns) attrs.push(`service.namespace=${ns}`);
  if (a('service.version')) attrs.push(`service.version=${a('service.version')}`);
  else if (str(lbl['app.kubernetes.io/version'])) attrs.push(`service.version=${str(lbl['app.kubernetes.io/version'])}`);
  else if (cs.length === 1) {
    const { tag, digest } = imageTagDigest(str(cs[0]!.image));
    const version = tag && digest ? `${tag}@${digest}` : digest || tag;
    if (version) attrs.push(`service.version=${version}`);
  }
  if (a('service.instance.id')) attrs.push(`service.instance.id=${a('service.instance.id')}`);
  else if (cs.length > 0) attrs.push(`service.instance.id=${ns}.$(POD_NAME).${str(cs[0]!.name)}`);
  return attrs.join(',');
}

function imageTagDigest(image: string): { tag: string; digest: string } {
  let rest = image;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(':');
  return { tag: colon > rest.lastIndexOf('/') ? rest.slice(colon + 1) : '', digest };
}

function mergeStringMaps(...maps: unknown[]): Record<string, unknown> | null {
  if (maps.length === 0) return null;
  return Object.assign({}, ...maps.map(rec)) as Record<string, unknown>;
}

/** Istio's injection funcmap; these take precedence over sprig's functions of the same name. */
export const injectionFuncs: FuncMap = {
  formatDuration: (d) => str(d),
  isset: (m, k) => Object.prototype.hasOwnProperty.call(rec(m), str(k)),
  excludeInboundPort,
  includeInboundPorts: (containers) => containerPorts(containers, () => true),
  applicationPorts: (containers) => containerPorts(containers, (c) => c.name !== 'istio-proxy'),
  kubevirtInterfaces: (s) => str(s),
  excludeInterfaces: (s) => str(s),
  annotation: (meta, name, def) => {
    const ann = rec(rec(meta).annotations);
    const key = str(name);
    return Object.prototype.hasOwnProperty.call(ann, key) ? str(ann[key]) : sprint(def);
  },
  valueOrDefault: (v, d) => (v === '' || v === null || v === undefined ? d : v),
  toJSON: (m) => (m === null || m === undefined ? '{}' : JSON.stringify(m)),
  fromJSON: (s) => {
    try {
      return JSON.parse(str(s)) as unknown;
    } catch {
      return '{}';
    }
  },
  structToJSON: (v) => (v === null || v === undefined ? '{}' : goJSONAny(v)),
  protoToJSON: (v) => (v === null || v === undefined ? '{}' : proxyConfigToJSON(v as ProxyConfig)),
  toYaml: (v) => goYaml(v),
  // Istio's indent pads every line but the first (the template supplies the first line's indent).
  indent: (n, s) => {
    const pad = ' '.repeat(Math.max(0, Number(n) || 0));
    return str(s).replace(/\n/g, '\n' + pad);
  },
  // path.Split: everything up to and including the last slash.
  directory: (p) => str(p).slice(0, str(p).lastIndexOf('/') + 1),
  contains: (needle, haystack) => str(haystack).includes(str(needle)),
  toLower: (s) => str(s).toLowerCase(),
  appendMultusNetwork,
  env: (key, def) => process.env[str(key)] || str(def),
  omit: (d, ...keys) => Object.fromEntries(Object.entries(rec(d)).filter(([k]) => !keys.map(str).includes(k))),
  strdict: (...kv) => {
    const out: Record<string, string> = {};
    for (let i = 0; i < kv.length; i += 2) out[str(kv[i])] = i + 1 < kv.length ? str(kv[i + 1]) : '';
    return out;
  },
  toJsonMap: (...maps) => JSON.stringify(mergeStringMaps(...maps)),
  mergeMaps: (...maps) => mergeStringMaps(...maps),
  omitNil,
  otelResourceAttributes,
  empty,
};

function containerPorts(containers: unknown, include: (c: Record<string, unknown>) => boolean): string {
  if (!Array.isArray(containers)) return '';
  const parts: string[] = [];
  for (const c of containers.map(rec)) {
    if (!include(c)) continue;
    for (const p of Array.isArray(c.ports) ? c.ports.map(rec) : []) {
      if (p.protocol === 'UDP' || p.protocol === 'SCTP') continue;
      parts.push(String(p.containerPort));
    }
  }
  return parts.join(',');
}
