// Pure comparison of what two control planes sent one proxy (xdsdump's output, resources as protojson).
//
// Normalisation (README.md beside this file): version_info and nonces are not part of a dumped
// resource; object key order is ignored; the lists whose order Envoy ignores are sorted (filter chains,
// matched by specificity; virtual hosts and their domains, matched by most specific domain; endpoints and
// localities; SAN, server-name, ALPN and prefix-range lists, matched as sets); certificate bytes (PEM,
// inline or base64) become `<PEM>`. Everything else must be equal, including the order of routes, HTTP
// filters, listener filters and transport socket matches, where Envoy takes the first match.
import { isDeepStrictEqual } from 'node:util';
import { diffPaths } from '../inject.js';

export interface Dump {
  resources: Record<string, Record<string, unknown>>;
  invalid: Record<string, Record<string, string>>;
  missing: Record<string, string[]>;
  responses: number;
  errors: string[];
}

export const TYPES: Record<string, string> = {
  'type.googleapis.com/envoy.config.cluster.v3.Cluster': 'Cluster',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment': 'ClusterLoadAssignment',
  'type.googleapis.com/envoy.config.listener.v3.Listener': 'Listener',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration': 'RouteConfiguration',
};

/** Lists (by protojson field name) whose order Envoy does not use. */
const UNORDERED = new Set([
  'filterChains', 'virtualHosts', 'domains', 'endpoints', 'lbEndpoints', 'serverNames', 'applicationProtocols',
  'matchSubjectAltNames', 'matchTypedSubjectAltNames', 'sourcePrefixRanges', 'prefixRanges',
  'directSourcePrefixRanges',
]);

const PEM = /^-----BEGIN [A-Z ]+-----/;
const PEM_BASE64 = /^LS0tLS1CRUdJTi/;

export function normalise(v: unknown, key = ''): unknown {
  if (typeof v === 'string') return PEM.test(v) || PEM_BASE64.test(v) ? '<PEM>' : v;
  if (Array.isArray(v)) {
    const items = v.map((x) => normalise(x));
    if (!UNORDERED.has(key)) return items;
    return items.map((x) => [JSON.stringify(x), x] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((p) => p[1]);
  }
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x, k)]));
  }
  return v;
}

export interface TypeResult {
  type: string;
  total: number;
  identical: number;
  onlyMeshd: string[];
  onlyIstiod: string[];
  /** Field-path differences of resources both sent, by resource name (got meshd, want istiod). */
  diffs: Map<string, string[]>;
  invalidMeshd: Record<string, string>;
  invalidIstiod: Record<string, string>;
  /** Leaf fields of resources both sent: how many there are (either side) and how many are equal. */
  fields: { total: number; equal: number };
}

/** Counts the leaf fields of two JSON values (by path, either side) and those equal on both. */
export function leafAgreement(a: unknown, b: unknown): { total: number; equal: number } {
  const isContainer = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) {
    const leaves = (v: unknown): number => (isContainer(v) ? Object.values(v).reduce<number>((n, x) => n + leaves(x), 0) || 1 : 1);
    const n = Math.max(a === undefined ? 0 : leaves(a), b === undefined ? 0 : leaves(b));
    return { total: n, equal: isDeepStrictEqual(a, b) ? n : 0 };
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  let total = 0;
  let equal = 0;
  for (const k of keys) {
    const r = leafAgreement(a[k], b[k]);
    total += r.total;
    equal += r.equal;
  }
  return { total, equal };
}

export function compareDumps(meshd: Dump, istiod: Dump): TypeResult[] {
  return Object.entries(TYPES).map(([url, type]) => {
    const m = meshd.resources[url] ?? {};
    const s = istiod.resources[url] ?? {};
    const names = [...new Set([...Object.keys(m), ...Object.keys(s)])].sort();
    const r: TypeResult = { type, total: names.length, identical: 0, onlyMeshd: [], onlyIstiod: [], diffs: new Map(),
      invalidMeshd: meshd.invalid[url] ?? {}, invalidIstiod: istiod.invalid[url] ?? {}, fields: { total: 0, equal: 0 } };
    for (const n of names) {
      if (!(n in s)) r.onlyMeshd.push(n);
      else if (!(n in m)) r.onlyIstiod.push(n);
      else {
        const [a, b] = [normalise(m[n]), normalise(s[n])];
        const f = leafAgreement(a, b);
        r.fields.total += f.total;
        r.fields.equal += f.equal;
        if (isDeepStrictEqual(a, b)) r.identical++;
        else r.diffs.set(n, diffPaths(a, b));
      }
    }
    return r;
  });
}

/** A field path with list indices generalised and resource names dropped: one difference class. */
export const xdsDiffClass = (type: string, line: string): string => `${type}${line.split(': got ')[0]!.replace(/\[\d+\]/g, '[]')}`;
