// VirtualService HTTP routes to Envoy routes (istiod's core/route), shared by sidecars, gateways and
// proxyless gRPC. Proxyless differs only in how timeouts are carried (gRPC reads max_stream_duration).
import type { IstioConfig, MeshService, ProxyInfo } from '../../types.js';
import { resolveHost } from '../config-index.js';
import { clusterName, type PushContext } from '../push-context.js';
import { ANY } from '../protos.js';
import { fractionalPercent, istioDuration, type Msg } from './common.js';
import { list, obj, stringList, type Obj } from '../../validation/core.js';

export interface RouteOptions {
  listenerPort: number;
  proxy: ProxyInfo;
  proxyless: boolean;
  /** 'mesh' for sidecars and gRPC, `ns/name` for a gateway. */
  gateway: string;
}

const objects = (v: unknown): Obj[] => list(v).map(obj);

const GRPC_CODES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/** Istio's retry.DefaultPolicy, used when a route names no retries. */
const RETRY_HOST_PREDICATE = [{ name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': ANY.previousHosts } }];
export function defaultRetryPolicy(): Msg {
  return {
    retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    num_retries: 2,
    retriable_status_codes: [503],
    retry_host_predicate: RETRY_HOST_PREDICATE,
    host_selection_retry_max_attempts: 5,
  };
}

/** VirtualService `retries` (istiod's retry.ConvertPolicy): attempts 0 turns retries off. */
export function retryPolicy(retries: unknown): Msg | undefined {
  if (retries === undefined || retries === null) return defaultRetryPolicy();
  const r = obj(retries);
  const attempts = typeof r.attempts === 'number' ? r.attempts : 2;
  if (attempts <= 0) return undefined;
  const policy: Msg = { ...defaultRetryPolicy(), num_retries: attempts };
  if (typeof r.retryOn === 'string' && r.retryOn) {
    const on: string[] = [];
    const codes: number[] = [];
    for (const t of r.retryOn.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (/^\d+$/.test(t)) codes.push(Number(t));
      else on.push(t);
    }
    if (codes.length && !on.includes('retriable-status-codes')) on.push('retriable-status-codes');
    policy.retry_on = on.join(',');
    policy.retriable_status_codes = codes;
  }
  const perTry = istioDuration(r.perTryTimeout);
  return perTry ? { ...policy, per_try_timeout: perTry } : policy;
}

function stringMatch(m: Obj): Msg | undefined {
  if (typeof m.exact === 'string') return { exact: m.exact };
  if (typeof m.prefix === 'string') return { prefix: m.prefix };
  if (typeof m.regex === 'string') return { safe_regex: { regex: m.regex } };
  return undefined;
}

function headerMatchers(headers: unknown, invert: boolean): Msg[] {
  return Object.entries(obj(headers)).map(([name, v]) => {
    const sm = stringMatch(obj(v));
    // An empty match object means "present" (Istio's translateHeaderMatch).
    return sm ? { name, string_match: sm, invert_match: invert } : { name, present_match: true, invert_match: invert };
  });
}

/** One HTTPMatchRequest as an Envoy RouteMatch. */
function routeMatch(m: Obj | undefined): Msg {
  const match: Msg = { prefix: '/' };
  if (!m) return match;
  const uri = obj(m.uri);
  if (typeof uri.exact === 'string') {
    delete match.prefix;
    match.path = uri.exact;
  } else if (typeof uri.prefix === 'string') match.prefix = uri.prefix;
  else if (typeof uri.regex === 'string') {
    delete match.prefix;
    match.safe_regex = { regex: uri.regex };
  }
  if (m.ignoreUriCase === true) match.case_sensitive = false;
  const headers = [...headerMatchers(m.headers, false), ...headerMatchers(m.withoutHeaders, true)];
  for (const [field, pseudo] of [['method', ':method'], ['authority', ':authority'], ['scheme', ':scheme']] as const) {
    const sm = stringMatch(obj(m[field]));
    if (sm) headers.push({ name: pseudo, string_match: sm });
  }
  if (headers.length) match.headers = headers;
  const query = Object.entries(obj(m.queryParams)).map(([name, v]) => ({ name, string_match: stringMatch(obj(v)) ?? { prefix: '' } }));
  if (query.length) match.query_parameters = query;
  return match;
}

/** Whether a match applies to this proxy and listener (evaluated at generation time, like istiod). */
function matchApplies(m: Obj, opts: RouteOptions, vsNamespace: string): boolean {
  if (typeof m.port === 'number' && m.port !== opts.listenerPort) return false;
  const src = obj(m.sourceLabels);
  if (!Object.entries(src).every(([k, v]) => opts.proxy.labels[k] === v)) return false;
  if (typeof m.sourceNamespace === 'string' && m.sourceNamespace !== opts.proxy.namespace) return false;
  const gateways = stringList(m.gateways);
  if (gateways.length && !gateways.some((g) => (g === 'mesh' || g.includes('/') ? g : `${vsNamespace}/${g}`) === opts.gateway)) return false;
  return true;
}

/** The cluster a destination points at; the port defaults to the service's only port, else the listener's. */
function destinationCluster(ctx: PushContext, vs: IstioConfig, dest: Obj, opts: RouteOptions): string {
  const host = resolveHost(String(dest.host ?? ''), vs.namespace, ctx.mesh.domainSuffix);
  let port = typeof obj(dest.port).number === 'number' ? (obj(dest.port).number as number) : undefined;
  if (port === undefined) {
    const svc = ctx.serviceFor(host, opts.proxy.namespace);
    port = svc && svc.ports.length === 1 ? svc.ports[0]!.port : opts.listenerPort;
  }
  return clusterName(port, typeof dest.subset === 'string' ? dest.subset : '', host);
}

function fault(f: Obj): Msg | undefined {
  const out: Msg = { '@type': ANY.fault };
  const pct = (x: Obj): Msg | undefined =>
    typeof obj(x.percentage).value === 'number' ? fractionalPercent(obj(x.percentage).value as number) : typeof x.percent === 'number' ? { numerator: x.percent, denominator: 'HUNDRED' } : undefined;
  const delay = obj(f.delay);
  const fixed = istioDuration(delay.fixedDelay);
  if (fixed) out.delay = { fixed_delay: fixed, percentage: pct(delay) };
  const abort = obj(f.abort);
  // Like istiod, an abort without a percentage is emitted without one (Envoy: 0 %, gRPC: rejected).
  if (typeof abort.httpStatus === 'number') out.abort = { http_status: abort.httpStatus, percentage: pct(abort) };
  else if (typeof abort.grpcStatus === 'string') out.abort = { grpc_status: Math.max(0, GRPC_CODES.indexOf(abort.grpcStatus)), percentage: pct(abort) };
  return out.delay || out.abort ? out : undefined;
}

function headerOps(h: Obj): { add: Msg[]; remove: string[] } {
  const add = [
    ...Object.entries(obj(h.set)).map(([key, value]) => ({ header: { key, value: String(value) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' })),
    ...Object.entries(obj(h.add)).map(([key, value]) => ({ header: { key, value: String(value) }, append_action: 'APPEND_IF_EXISTS_OR_ADD' })),
  ];
  return { add, remove: stringList(h.remove) };
}

/** DestinationRule consistentHash on the destination's cluster becomes a route hash policy. */
function hashPolicy(ctx: PushContext, vs: IstioConfig, dest: Obj, opts: RouteOptions): Msg[] | undefined {
  const svc = ctx.serviceFor(resolveHost(String(dest.host ?? ''), vs.namespace, ctx.mesh.domainSuffix), opts.proxy.namespace);
  const dr = svc && ctx.config.destinationRuleFor(svc, opts.proxy.namespace);
  const ch = obj(obj(obj(dr?.spec.trafficPolicy).loadBalancer).consistentHash);
  if (typeof ch.httpHeaderName === 'string') return [{ header: { header_name: ch.httpHeaderName } }];
  if (ch.httpCookie) {
    const c = obj(ch.httpCookie);
    return [{ cookie: { name: c.name, path: c.path, ttl: istioDuration(c.ttl) } }];
  }
  if (ch.useSourceIp === true) return [{ connection_properties: { source_ip: true } }];
  if (typeof ch.httpQueryParameterName === 'string') return [{ query_parameter: { name: ch.httpQueryParameterName } }];
  return undefined;
}

function routeAction(ctx: PushContext, vs: IstioConfig, http: Obj, opts: RouteOptions): Msg {
  const dests = objects(http.route);
  const action: Msg = {};
  const weighted = dests.filter((d) => d.weight === undefined || (typeof d.weight === 'number' && d.weight > 0));
  if (weighted.length === 1 || dests.length === 1) action.cluster = destinationCluster(ctx, vs, obj(dests[0]!.destination), opts);
  else
    action.weighted_clusters = {
      clusters: weighted.map((d) => ({ name: destinationCluster(ctx, vs, obj(d.destination), opts), weight: typeof d.weight === 'number' ? d.weight : 0 })),
    };
  const timeout = istioDuration(http.timeout);
  if (opts.proxyless) {
    if (timeout) action.max_stream_duration = { max_stream_duration: timeout };
  } else {
    action.timeout = timeout ?? { seconds: 0 };
    if (timeout) action.max_stream_duration = { max_stream_duration: timeout, grpc_timeout_header_max: timeout };
  }
  const retry = retryPolicy(http.retries);
  if (retry) action.retry_policy = retry;
  const rewrite = obj(http.rewrite);
  if (typeof rewrite.uri === 'string') action.prefix_rewrite = rewrite.uri;
  if (typeof rewrite.authority === 'string') action.host_rewrite_literal = rewrite.authority;
  const uriRegex = obj(rewrite.uriRegexRewrite);
  if (typeof uriRegex.match === 'string') action.regex_rewrite = { pattern: { regex: uriRegex.match }, substitution: String(uriRegex.rewrite ?? '') };
  const mirrors = [...(http.mirror ? [{ destination: http.mirror, percentage: http.mirrorPercentage }] : []), ...objects(http.mirrors)];
  if (mirrors.length)
    action.request_mirror_policies = mirrors.map((m) => {
      const mo = obj(m);
      const pct = typeof obj(mo.percentage).value === 'number' ? (obj(mo.percentage).value as number) : 100;
      return { cluster: destinationCluster(ctx, vs, obj(mo.destination), opts), runtime_fraction: { default_value: fractionalPercent(pct) }, trace_sampled: false };
    });
  const hp = dests[0] ? hashPolicy(ctx, vs, obj(dests[0].destination), opts) : undefined;
  if (hp) action.hash_policy = hp;
  return action;
}

/** The routes one VirtualService contributes for a listener port (istiod's BuildHTTPRoutesForVirtualService). */
export function virtualServiceRoutes(ctx: PushContext, vs: IstioConfig, opts: RouteOptions): Msg[] {
  const routes: Msg[] = [];
  for (const http of objects(vs.spec.http)) {
    const matches = objects(http.match);
    const applicable = matches.length ? matches.filter((m) => matchApplies(m, opts, vs.namespace)) : [undefined];
    if (matches.length && applicable.length === 0) continue;
    for (const m of applicable) {
      const route: Msg = { match: routeMatch(m) };
      const name = [http.name, m?.name].filter((x) => typeof x === 'string' && x).join('.');
      if (name) route.name = name;
      const redirect = obj(http.redirect);
      const direct = obj(http.directResponse);
      if (http.redirect) {
        route.redirect = {
          ...(typeof redirect.uri === 'string' ? { path_redirect: redirect.uri } : {}),
          ...(typeof redirect.authority === 'string' ? { host_redirect: redirect.authority } : {}),
          ...(typeof redirect.redirectCode === 'number' ? { response_code: redirect.redirectCode === 301 ? 'MOVED_PERMANENTLY' : redirect.redirectCode === 303 ? 'SEE_OTHER' : redirect.redirectCode === 307 ? 'TEMPORARY_REDIRECT' : redirect.redirectCode === 308 ? 'PERMANENT_REDIRECT' : 'FOUND' } : {}),
        };
      } else if (http.directResponse) {
        const body = obj(direct.body);
        route.direct_response = { status: direct.status, ...(typeof body.string === 'string' ? { body: { inline_string: body.string } } : {}) };
      } else {
        route.route = routeAction(ctx, vs, http, opts);
      }
      const f = http.fault ? fault(obj(http.fault)) : undefined;
      if (f) route.typed_per_filter_config = { 'envoy.filters.http.fault': f };
      const headers = obj(http.headers);
      const req = headerOps(obj(headers.request));
      const resp = headerOps(obj(headers.response));
      if (req.add.length) route.request_headers_to_add = req.add;
      if (req.remove.length) route.request_headers_to_remove = req.remove;
      if (resp.add.length) route.response_headers_to_add = resp.add;
      if (resp.remove.length) route.response_headers_to_remove = resp.remove;
      routes.push(route);
    }
  }
  return routes;
}

/** The route to a service when no VirtualService applies. */
export function defaultRoute(service: MeshService, port: number, proxyless: boolean): Msg {
  const action: Msg = { cluster: clusterName(port, '', service.hostname), retry_policy: defaultRetryPolicy() };
  if (!proxyless) action.timeout = { seconds: 0 };
  return { name: 'default', match: { prefix: '/' }, route: action };
}

/** The domains a virtual host answers: FQDN, short names in the same namespace, and the VIPs, each with and without the port. */
export function virtualHostDomains(service: MeshService, port: number, proxyNamespace: string, domainSuffix: string): string[] {
  const names = [service.hostname];
  const suffix = `.svc.${domainSuffix}`;
  if (service.hostname.endsWith(suffix)) {
    const [name, ns] = service.hostname.slice(0, -suffix.length).split('.');
    names.push(`${name}.${ns}.svc`, `${name}.${ns}`);
    if (ns === proxyNamespace) names.push(name!);
  }
  names.push(...service.addresses);
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

/** The virtual host for one service port, routed by its VirtualService or by default. */
export function serviceVirtualHost(ctx: PushContext, service: MeshService, port: number, opts: RouteOptions): Msg {
  const vs = ctx.config.virtualServiceFor(service.hostname, opts.proxy.namespace, opts.gateway);
  const routes = vs ? virtualServiceRoutes(ctx, vs, opts) : [defaultRoute(service, port, opts.proxyless)];
  return { name: `${service.hostname}:${port}`, domains: virtualHostDomains(service, port, opts.proxy.namespace, ctx.mesh.domainSuffix), routes };
}
