// EnvoyFilter rules (istio pkg/config/validation/envoyfilter). The patch value is checked only for the
// shape of its `name`; istiod also decodes it against Envoy's protos, which meshd does not yet load.
import { list, obj, present, Report, str, validateAlphaWorkloadSelector, type Obj } from '../core.js';
import { enumValue } from '../decode.js';
import { re2Error } from '../http-rules.js';
import type { ConfigMeta } from '../validate.js';

const APPLY_TO = ['INVALID', 'LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER', 'ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE', 'CLUSTER', 'EXTENSION_CONFIG', 'BOOTSTRAP', 'LISTENER_FILTER'] as const;
const OPERATIONS = ['INVALID', 'MERGE', 'ADD', 'REMOVE', 'INSERT_BEFORE', 'INSERT_AFTER', 'INSERT_FIRST', 'REPLACE', 'MERGE_AND_REPLACE_LIST'] as const;
const CONTEXTS = ['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY', 'WAYPOINT'] as const;
const HCM = 'envoy.filters.network.http_connection_manager';
const DEPRECATED_NAMES: Record<string, string> = {
  'envoy.http_connection_manager': HCM,
  'envoy.tcp_proxy': 'envoy.filters.network.tcp_proxy',
  'envoy.router': 'envoy.filters.http.router',
  'envoy.cors': 'envoy.filters.http.cors',
  'envoy.fault': 'envoy.filters.http.fault',
  'envoy.lua': 'envoy.filters.http.lua',
  'envoy.ext_authz': 'envoy.filters.http.ext_authz',
  'envoy.listener.tls_inspector': 'envoy.filters.listener.tls_inspector',
  'envoy.listener.http_inspector': 'envoy.filters.listener.http_inspector',
  'envoy.listener.original_dst': 'envoy.filters.listener.original_dst',
};

function goKind(v: unknown): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object' && v !== null) return 'object';
  return 'string';
}

function patch(cp: Obj, r: Report): void {
  const match = present(cp.match) ? obj(cp.match) : undefined;
  if (match && enumValue(match.context, CONTEXTS, 'istio.networking.v1alpha3.EnvoyFilter.PatchContext') === 'WAYPOINT') return;
  const applyTo = enumValue(cp.applyTo, APPLY_TO, 'istio.networking.v1alpha3.EnvoyFilter.ApplyTo') ?? 'INVALID';
  if (applyTo === 'INVALID') return void r.error('Envoy filter: missing applyTo');
  if (!present(cp.patch)) return void r.error('Envoy filter: missing patch');
  const p = obj(cp.patch);
  const op = enumValue(p.operation, OPERATIONS, 'istio.networking.v1alpha3.EnvoyFilter.Patch.Operation') ?? 'INVALID';
  if (op === 'INVALID') return void r.error('Envoy filter: missing patch operation');
  if (op !== 'REMOVE' && !present(p.value)) return void r.error('Envoy filter: missing patch value for non-remove operation');
  const version = str(obj(match?.proxy).proxyVersion);
  if (version !== '') {
    if (version.length > 1024) r.warn('Envoy filter: proxyVersion match exceeds 1024 characters and will be ignored');
    else {
      const e = re2Error(version);
      if (e) return void r.error(`Envoy filter: invalid regex for proxy version, [${e}]`);
    }
  }
  const objectType = match && (present(match.listener) || present(match.routeConfiguration) || present(match.cluster) || present(match.waypoint));
  if (['LISTENER', 'FILTER_CHAIN', 'NETWORK_FILTER', 'HTTP_FILTER'].includes(applyTo) && objectType) {
    if (!present(match.listener)) return void r.error('Envoy filter: applyTo for listener class objects cannot have non listener match');
    const chain = obj(obj(match.listener).filterChain);
    if (present(chain.filter)) {
      const filter = obj(chain.filter);
      if (applyTo === 'LISTENER' || applyTo === 'FILTER_CHAIN') r.warn(`Envoy filter: filter match has no effect when used with ${applyTo}`);
      const name = str(filter.name);
      if (name === '') return void r.error('Envoy filter: filter match has no name to match on');
      if (present(filter.subFilter)) {
        if (applyTo !== 'HTTP_FILTER') return void r.error('Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only');
        if (name !== HCM && name !== 'envoy.http_connection_manager') return void r.error(`Envoy filter: subfilter match requires filter match with ${HCM}`);
        if (str(obj(filter.subFilter).name) === '') return void r.error('Envoy filter: subfilter match has no name to match on');
      }
      for (const n of [name, str(obj(filter.subFilter).name)]) {
        const replacement = DEPRECATED_NAMES[n];
        if (replacement) r.warn(`using deprecated filter name "${n}"; use "${replacement}" instead`);
      }
    }
  } else if (['ROUTE_CONFIGURATION', 'VIRTUAL_HOST', 'HTTP_ROUTE'].includes(applyTo) && objectType && !present(match.routeConfiguration)) {
    r.error('Envoy filter: applyTo for http route class objects cannot have non route configuration match');
  } else if (applyTo === 'CLUSTER' && objectType && !present(match.cluster)) {
    r.error('Envoy filter: applyTo for cluster class objects cannot have non cluster match');
  }
  const value = obj(p.value);
  if (present(value.name) && typeof value.name !== 'string') r.error(`Envoy filter: json: cannot unmarshal ${goKind(value.name)} into Go value of type string`);
}

export function validateEnvoyFilter(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  r.warn('EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.');
  const sel = validateAlphaWorkloadSelector(spec.workloadSelector, 'workload selector specified without labels');
  if (sel.errors.length > 0) return new Report().error(sel.errors[0]!);
  if (sel.warning) r.warn(`Envoy filter: ${sel.warning}, will be applied to all services in namespace`);
  for (const cp of list(spec.configPatches)) {
    if (cp === null) r.error('Envoy filter: null config patch');
    else patch(obj(cp), r);
  }
  return r;
}
