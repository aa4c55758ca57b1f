// VirtualService rules (istio pkg/config/validation: ValidateVirtualService, virtualservice.go).
import { isIP } from '../../net/ip.js';
import {
  isDNS1123Label,
  list,
  obj,
  present,
  Report,
  str,
  validateExportTo,
  validateFQDN,
  validateIPSubnet,
  validateLabels,
  validatePercentage,
  validatePort,
  validateWildcardDomain,
  type Obj,
} from '../core.js';
import { duration, durationError, f64, i32, u32 } from '../decode.js';
import {
  headerOperationErrors,
  isJwtClaimRoute,
  matchType,
  retryErrors,
  validateCorsHeaderName,
  validateHeaderNameOrClaim,
  validateRegexp,
  validateStringMatch,
  validateStringMatchRegexp,
} from '../http-rules.js';
import { forEachMatchingHostPair, subsetChecker } from '../host-index.js';
import type { ConfigMeta } from '../validate.js';

const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);
const GRPC_STATUS = new Set([
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]);
const KB = 1024;
const MB = 1024 * KB;

/** Gateway references: `ns/name`, or a legacy FQDN name (warned when dotted). */
export function validateGatewayNames(names: unknown, gatewaySemantics: boolean, r: Report): void {
  for (const raw of list(names)) {
    const name = str(raw);
    const slash = name.indexOf('/');
    if (slash === -1) {
      if (name.includes('.')) {
        const parts = name.split('.');
        r.warn(`using legacy gatewayName format "${name}"; prefer the <namespace>/<name> format: "${parts[1]}/${parts[0]}"`);
      }
      r.check(validateFQDN(name));
      return;
    }
    const [ns, gw] = [name.slice(0, slash), name.slice(slash + 1)];
    if (ns === '' || gw === '') r.error('config namespace and gateway name cannot be empty');
    if (!isDNS1123Label(ns)) r.error(`invalid value for namespace: "${ns}"`);
    if (!isDNS1123Label(gw) && !gatewaySemantics) r.error(`invalid value for gateway name: "${gw}"`);
  }
}

/** A route destination: host, subset, port. */
export function destinationErrors(destination: unknown): string[] {
  if (!present(destination)) return [];
  const d = obj(destination);
  const errs: string[] = [];
  const host = str(d.host);
  if (host === '*') errs.push(`invalid destination host ${host}`);
  else {
    const e = validateWildcardDomain(host);
    if (e) errs.push(e);
  }
  const subset = str(d.subset);
  if (subset !== '' && !isDNS1123Label(subset)) errs.push(`subset name is invalid: ${subset}`);
  if (present(d.port)) {
    const e = validatePort(u32(obj(d.port).number));
    if (e) errs.push(e);
  }
  return errs;
}

function routeDestinations(route: unknown, gatewaySemantics: boolean, withHeaders: boolean, r: Report): void {
  const dests = list(route);
  let total = 0;
  for (const item of dests) {
    if (item === null) {
      r.error('weight may not be nil');
      continue;
    }
    const w = obj(item);
    if (!present(w.destination)) r.error('destination is required');
    if (withHeaders) for (const e of headerOperationErrors(w.headers)) r.error(e);
    if (!gatewaySemantics) for (const e of destinationErrors(w.destination)) r.error(e);
    const weight = i32(w.weight);
    if (weight < 0) r.error(`weight ${weight} < 0`);
    total += weight;
  }
  if (dests.length > 1 && total === 0) r.error('total destination weight = 0');
}

function corsPolicy(policy: unknown, r: Report): void {
  if (!present(policy)) return;
  const p = obj(policy);
  for (const origin of list(p.allowOrigins)) {
    const o = obj(origin);
    const t = matchType(o);
    const value = t ? str(o[t]) : '';
    if (value === '') r.error(`'${value}' is not a valid match type for CORS allow origins`);
    else r.check(validateStringMatchRegexp(o, 'corsPolicy.allowOrigins'));
  }
  for (const m of list(p.allowMethods)) if (!CORS_METHODS.has(str(m))) r.error(`"${str(m)}" is not a supported HTTP method`);
  for (const h of [...list(p.allowHeaders), ...list(p.exposeHeaders)]) r.check(validateCorsHeaderName(str(h)));
  const maxAge = duration(p.maxAge);
  if (maxAge !== undefined) {
    r.check(durationError(maxAge));
    if (maxAge % 1e9 !== 0) r.error('max_age duration is accurate only to seconds precision');
  }
}

function fault(f: unknown, r: Report): void {
  if (!present(f)) return;
  const { abort, delay } = obj(f);
  if (!present(abort) && !present(delay)) r.error('HTTP fault injection must have an abort and/or a delay');
  if (present(abort)) {
    const a = obj(abort);
    r.check(validatePercentage(a.percentage));
    if (present(a.grpcStatus)) {
      const s = str(a.grpcStatus);
      if (!GRPC_STATUS.has(s)) r.error(`gRPC status "${s}" is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a list of supported codes, for example 'NOT_FOUND'`);
    } else if (present(a.http2Error)) r.error('HTTP/2 abort fault injection not supported yet');
    else if (present(a.httpStatus)) {
      const s = i32(a.httpStatus);
      if (s < 200 || s > 600) r.error(`HTTP status ${s} is not in range 200-599`);
    } else r.warn('abort configured, but error type not set');
  }
  if (present(delay)) {
    const d = obj(delay);
    r.check(validatePercentage(d.percentage));
    if (present(d.exponentialDelay)) {
      r.check(durationError(duration(d.exponentialDelay)));
      r.error('exponentialDelay not supported yet');
    } else if (present(d.fixedDelay)) r.check(durationError(duration(d.fixedDelay)));
  }
}

function redirectError(redirect: unknown, matches: unknown[]): string | undefined {
  if (!present(redirect)) return undefined;
  const rd = obj(redirect);
  const uri = str(rd.uri);
  const prefixRewrite = str(rd.prefixRewrite);
  if (uri !== '' && prefixRewrite !== '') return 'redirect may only specify one of uri or prefix_rewrite';
  if (prefixRewrite !== '') {
    for (const m of matches) {
      const u = obj(m).uri;
      if (present(u) && matchType(u) !== 'prefix') return 'redirect prefix_rewrite requires all URI matches to use prefix match type';
    }
  }
  if (uri === '' && prefixRewrite === '' && str(rd.authority) === '' && !present(rd.port) && !present(rd.derivePort) && str(rd.scheme) === '') {
    return 'redirect must specify URI, authority, scheme, or port';
  }
  const code = u32(rd.redirectCode);
  if (code !== 0 && (code < 300 || code > 399)) return `${code} is not a valid redirect code, must be 3xx`;
  const scheme = str(rd.scheme);
  if (scheme !== '' && scheme !== 'http' && scheme !== 'https') return 'invalid redirect scheme, must be "http" or "https"';
  if (u32(rd.port) > 0) return validatePort(u32(rd.port));
  return undefined;
}

function directResponse(dr: unknown, r: Report): void {
  if (!present(dr)) return;
  const d = obj(dr);
  if (present(d.body)) {
    const b = obj(d.body);
    const size = present(b.bytes) ? Buffer.from(str(b.bytes), 'base64').length : Buffer.byteLength(str(b.string));
    if (size > MB) r.error('large direct_responses may impact control plane performance, must be less than 1MB');
    else if (size > 100 * KB) r.warn('large direct_responses may impact control plane performance');
  }
  const s = u32(d.status);
  if (s < 200 || s > 600) r.error(`HTTP status ${s} is not in range 200-599`);
}

function rewriteError(rewrite: unknown): string | undefined {
  if (!present(rewrite)) return undefined;
  const rw = obj(rewrite);
  const regex = rw.uriRegexRewrite;
  if (str(rw.uri) !== '' && present(regex)) return 'rewrite may only contain one of URI or UriRegexRewrite';
  if (str(rw.uri) === '' && !present(regex) && str(rw.authority) === '') {
    return 'rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified';
  }
  if (present(regex)) {
    const rr = obj(regex);
    const inner = str(rr.match) === '' || str(rr.rewrite) === '' ? 'UriRegexRewrite requires both Rewrite and Match fields to be specified' : validateRegexp(str(rr.match), 'HTTPRewrite.UriRegexRewrite.Match');
    if (inner) return `UriRegexRewrite has errors\n${inner}`;
  }
  return undefined;
}

function authorityRewriteError(rewrite: unknown, headers: unknown): string | undefined {
  let current = str(obj(rewrite).authority);
  const req = obj(obj(headers).request);
  for (const block of [obj(req.set), obj(req.add)]) {
    for (const [k, v] of Object.entries(block)) {
      if (k.toLowerCase() !== ':authority' && k.toLowerCase() !== 'host') continue;
      if (current !== '') return `authority header cannot be set multiple times: have "${current}", attempting to set "${str(v)}"`;
      current = str(v);
    }
  }
  return undefined;
}

function routeMatches(http: Obj, r: Report): void {
  const matches = list(http.match);
  for (const m of matches) {
    if (m === null) continue;
    const match = obj(m);
    for (const [name, header] of Object.entries(obj(match.headers))) {
      r.check(validateHeaderNameOrClaim(name));
      r.check(validateStringMatch(header, 'headers'));
    }
    for (const [name, header] of Object.entries(obj(match.withoutHeaders))) {
      r.check(validateHeaderNameOrClaim(name));
      if (present(header) && str(obj(header).regex) !== '*') r.check(validateStringMatch(header, 'withoutHeaders'));
    }
    r.check(validateStringMatchRegexp(match.uri, 'uri'));
    r.check(validateStringMatch(match.scheme, 'scheme'));
    r.check(validateStringMatch(match.method, 'method'));
    r.check(validateStringMatch(match.authority, 'authority'));
    for (const qp of Object.values(obj(match.queryParams))) r.check(validateStringMatch(qp, 'queryParams'));
  }
  for (const m of matches) {
    if (m === null) continue;
    const match = obj(m);
    if (u32(match.port) !== 0) r.check(validatePort(u32(match.port)));
    r.check(validateLabels(match.sourceLabels));
    validateGatewayNames(match.gateways, false, r);
    const ns = str(match.sourceNamespace);
    if (ns !== '' && !isDNS1123Label(ns)) r.error(`sourceNamespace match ${ns} is invalid`);
  }
}

type RouteKind = 'independent' | 'root' | 'delegate';

function routeConflicts(http: Obj, kind: RouteKind, r: Report): void {
  const name = str(http.name);
  if (kind === 'root') {
    if (present(http.redirect)) r.error(`root HTTP route ${name} must not specify redirect`);
    if (present(http.route)) r.error(`root HTTP route ${name} must not specify route`);
    return;
  }
  if (kind === 'delegate' && present(http.delegate)) r.error('delegate HTTP route cannot contain delegate');
  const routes = list(http.route).length;
  if (present(http.redirect)) {
    if (routes > 0) r.error('HTTP route cannot contain both route and redirect');
    if (present(http.fault)) r.error('HTTP route cannot contain both fault and redirect');
    if (present(http.rewrite)) r.error('HTTP route rule cannot contain both rewrite and redirect');
    if (present(http.directResponse)) r.error('HTTP route rule cannot contain both direct_response and redirect');
  } else if (present(http.directResponse)) {
    if (routes > 0) r.error('HTTP route cannot contain both route and direct_response');
    if (present(http.fault)) r.error('HTTP route cannot contain both fault and direct_response');
    if (present(http.rewrite)) r.error('HTTP route rule cannot contain both rewrite and direct_response');
  } else if (routes === 0) r.error('HTTP route, redirect or direct_response is required');
  if (present(http.mirror) && list(http.mirrors).length > 0) r.error('HTTP route cannot contain both mirror and mirrors');
}

function httpRoute(http: Obj, isDelegateVS: boolean, gatewaySemantics: boolean, r: Report): void {
  const kind: RouteKind = isDelegateVS ? 'delegate' : present(http.delegate) ? 'root' : 'independent';
  routeConflicts(http, kind, r);
  routeMatches(http, r);
  for (const e of headerOperationErrors(http.headers)) r.error(e);
  corsPolicy(http.corsPolicy, r);
  fault(http.fault, r);
  if (present(http.mirrorPercent)) {
    const v = u32(http.mirrorPercent);
    if (v > 100) r.error(`mirror_percent must have a max value of 100 (it has ${v})`);
    r.warn('using deprecated setting "mirrorPercent", use "mirrorPercentage" instead');
  }
  if (present(http.mirrorPercentage)) {
    const v = f64(obj(http.mirrorPercentage).value);
    if (v > 100) r.error(`mirror_percentage must have a max value of 100 (it has ${v.toFixed(6)})`);
    if (v < 0) r.error(`mirror_percentage must have a min value of 0 (it has ${v.toFixed(6)})`);
  }
  for (const e of destinationErrors(http.mirror)) r.error(e);
  for (const m of list(http.mirrors)) {
    if (m === null) {
      r.error('mirror cannot be null');
      continue;
    }
    const mirror = obj(m);
    if (!present(mirror.destination)) {
      r.error('destination is required for mirrors');
      continue;
    }
    for (const e of destinationErrors(mirror.destination)) r.error(e);
    if (present(mirror.percentage)) {
      const v = f64(obj(mirror.percentage).value);
      if (v > 100) r.error(`mirror percentage must have a max value of 100 (it has ${v.toFixed(6)})`);
      if (v < 0) r.error(`mirror percentage must have a min value of 0 (it has ${v.toFixed(6)})`);
    }
  }
  r.check(redirectError(http.redirect, list(http.match)));
  directResponse(http.directResponse, r);
  for (const e of retryErrors(http.retries)) r.error(e);
  r.check(rewriteError(http.rewrite));
  r.check(authorityRewriteError(http.rewrite, http.headers));
  routeDestinations(http.route, gatewaySemantics, true, r);
  if (present(http.timeout)) r.check(durationError(duration(http.timeout)));
}

/** The SNI checks of one VirtualService: its hosts indexed once, and the host list as messages print it. */
interface SniContext {
  hosts: string[];
  covers: (sni: string) => boolean;
  listed?: string;
}

function sniHost(host: string, ctx: SniContext, boundToGateway: boolean, r: Report): void {
  const err = boundToGateway ? wildcardDomainForGateway(true, host) : validateWildcardDomain(host);
  if (err) {
    if (isIP(host)) r.warn(`using an IP address ("${host}") goes against SNI spec and most clients do not support this`);
    else r.error(err);
    return;
  }
  if (r.errorsFull || ctx.covers(host)) return;
  ctx.listed ??= ctx.hosts.join(', ');
  r.error(`SNI host "${host}" is not a compatible subset of any of the virtual service hosts: [${ctx.listed}]`);
}

/** Gateway-bound hosts may use Envoy's auto-generated SNI form outbound_.<port>_._.<host>. */
function wildcardDomainForGateway(sni: boolean, domain: string): string | undefined {
  if (domain.length === 0 || domain.length > 255) return validateWildcardDomain(domain);
  if (sni && domain.startsWith('outbound_')) {
    const parts = domain.split('_');
    if (parts.length < 4) return `domain name ${domain} invalid, should follow 'outbound_.<port>_._.<hostname>' format`;
    const port = parts[1]!.replace(/^\.+|\.+$/g, '');
    const host = parts[3]!.replace(/^\.+|\.+$/g, '');
    if (parts[0] !== 'outbound') return `domain name "${domain}" invalid (label "${parts[0]}" invalid)`;
    if (!/[0-9]/.test(port)) return `domain name "${domain}" invalid (label "${port}" invalid). should follow outbound_.<port>_._.<hostname> format`;
    if (!/[a-zA-Z]/.test(host)) return `domain name "${domain}" invalid (label "${host}" invalid). should follow outbound_.<port>_._.<hostname> format`;
    return undefined;
  }
  return validateWildcardDomain(domain);
}

function l4Match(match: unknown, r: Report): void {
  const m = obj(match);
  for (const s of list(m.destinationSubnets)) r.check(validateIPSubnet(str(s)));
  if (u32(m.port) !== 0) r.check(validatePort(u32(m.port)));
  r.check(validateLabels(m.sourceLabels));
  validateGatewayNames(m.gateways, false, r);
}

/** A prefix-URI match reduced to what the overlap analysis compares. */
interface PrefixMatch {
  route: string;
  match: string;
  prefix: string;
  port: number;
  method: string;
  authority: string;
  headers: Record<string, string>;
  queryParams: Record<string, string>;
  withoutHeaders: Record<string, string>;
}

function exactOrPrefix(sm: unknown): string {
  const m = obj(sm);
  if (str(m.exact) !== '') return `exact:${str(m.exact)}`;
  if (str(m.prefix) !== '') return `prefix:${str(m.prefix)}`;
  return '';
}

function prefixMatch(routeName: string, matchName: string, match: Obj): PrefixMatch | undefined {
  const prefix = str(obj(match.uri).prefix);
  if (!present(match.uri) || prefix === '') return undefined;
  const mapOf = (m: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(m)).map(([k, v]) => [k, exactOrPrefix(v)]));
  return {
    route: routeName,
    match: matchName,
    prefix,
    port: u32(match.port),
    method: exactOrPrefix(match.method) || 'exact:GET',
    authority: exactOrPrefix(match.authority),
    headers: mapOf(match.headers),
    queryParams: mapOf(match.queryParams),
    withoutHeaders: mapOf(match.withoutHeaders),
  };
}

/** Whether every request `b` matches is also matched by the earlier `a`. */
function covered(a: PrefixMatch, b: PrefixMatch): boolean {
  if (!b.prefix.startsWith(a.prefix) || a.port !== b.port) return false;
  const within = (x: string, y: string): boolean => x === y || x.startsWith(y);
  if (!within(a.method, b.method) || !within(a.authority, b.authority)) return false;
  for (const [am, bm] of [[a.headers, b.headers], [a.queryParams, b.queryParams], [a.withoutHeaders, b.withoutHeaders]] as const) {
    if (Object.keys(am).length !== Object.keys(bm).length) return false;
    for (const [k, v] of Object.entries(am)) if (!(k in bm) || !within(v, bm[k]!)) return false;
  }
  return true;
}

/** Rules that can never match because earlier rules take all their traffic (warnings only). */
function unreachableRules(routes: unknown[], isHttp: boolean, r: Report): void {
  const unused = (rule: string, reason: string): void => void r.warn(`virtualService rule ${rule} not used (${reason})`);
  const ineffective = (rule: string, match: string, dup: string): void => void r.warn(`virtualService rule ${rule} match ${match} is not used (duplicate/overlapping match in rule ${dup})`);
  const nameOf = (route: unknown, i: number): string => (isHttp && str(obj(route).name) !== '' ? JSON.stringify(str(obj(route).name)) : `#${i}`);
  const seen = new Map<string, number>();
  const prefixes: PrefixMatch[] = [];
  let catchAll = -1;
  routes.forEach((route, i) => {
    if (route === null) return;
    const matches = list(obj(route).match);
    if (matches.length === 0) {
      if (catchAll >= 0) unused(nameOf(route, i), 'only the last rule can have no matches');
      catchAll = i;
      return;
    }
    let duplicates = 0;
    matches.forEach((m, j) => {
      if (catchAll >= 0) {
        unused(nameOf(route, i), 'route without matches defined before');
        return;
      }
      const { name: matchName, ...rest } = obj(m);
      const key = JSON.stringify(isHttp ? rest : m);
      const requestName = isHttp && str(matchName) !== '' ? JSON.stringify(str(matchName)) : `#${j}`;
      const dup = seen.get(key);
      if (dup !== undefined) {
        ineffective(nameOf(route, i), requestName, nameOf(routes[dup], dup));
        duplicates++;
        return;
      }
      seen.set(key, i);
      const pm = isHttp ? prefixMatch(nameOf(route, i), requestName, obj(m)) : undefined;
      if (pm) prefixes.push(pm);
    });
    if (duplicates === matches.length) unused(nameOf(route, i), 'all matches used by prior rules');
  });
  overlappingPrefixes(prefixes, (pa, pb) => ineffective(pb.route, `${pb.match} of prefix ${pb.prefix}`, `${pa.match} of prefix ${pa.prefix} on ${pa.route}`), r);
}

/** Pairs of prefix matches the overlap analysis compares at most; only hostile objects get there. */
export const MAX_OVERLAP_CHECKS = 1_000_000;

/**
 * istiod's overlap analysis (every earlier prefix match against every later one, reported in that order)
 * without comparing every pair: only matches on the same port whose prefix extends the earlier one's can be
 * covered, and sorted by port and prefix those are the run right after it.
 */
function overlappingPrefixes(prefixes: PrefixMatch[], report: (a: PrefixMatch, b: PrefixMatch) => void, r: Report): void {
  const order = prefixes.map((_, i) => i);
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  order.sort((x, y) => prefixes[x]!.port - prefixes[y]!.port || cmp(prefixes[x]!.prefix, prefixes[y]!.prefix) || x - y);
  const position = new Array<number>(order.length);
  order.forEach((a, p) => (position[a] = p));
  // Equal prefixes never cover each other: each scan starts after the run of its own prefix.
  const runEnd = new Array<number>(order.length);
  for (let p = order.length - 1; p >= 0; p--) {
    const [x, y] = [prefixes[order[p]!]!, prefixes[order[p + 1]!]];
    runEnd[p] = y && y.port === x.port && y.prefix === x.prefix ? runEnd[p + 1]! : p + 1;
  }
  let checks = 0;
  for (let a = 0; a < prefixes.length; a++) {
    const pa = prefixes[a]!;
    const later: number[] = [];
    for (let p = runEnd[position[a]!]!; p < order.length; p++) {
      const pb = prefixes[order[p]!]!;
      if (pb.port !== pa.port || !pb.prefix.startsWith(pa.prefix)) break;
      if (++checks > MAX_OVERLAP_CHECKS) {
        r.warn(`virtualService prefix overlap analysis stopped after ${MAX_OVERLAP_CHECKS} comparisons`);
        return;
      }
      if (order[p]! > a && covered(pa, pb)) later.push(order[p]!);
    }
    for (const b of later.sort((x, y) => x - y)) {
      if (r.warningsFull) return;
      report(pa, prefixes[b]!);
    }
  }
}

export function validateVirtualService(spec: Obj, meta: ConfigMeta): Report {
  const r = new Report();
  const hosts = list(spec.hosts).map(str);
  const gateways = list(spec.gateways).map(str);
  const http = list(spec.http);
  const tls = list(spec.tls);
  const tcp = list(spec.tcp);
  if (hosts.length === 0) {
    if (gateways.length > 0) r.error('delegate virtual service must have no gateways specified');
    if (tls.length > 0) r.error('delegate virtual service must have no tls route specified');
    if (tcp.length > 0) r.error('delegate virtual service must have no tcp route specified');
  }
  const gatewaySemantics = meta.annotations['internal.istio.io/route-semantics'] === 'gateway';
  let appliesToMesh = true;
  let appliesToGateway = false;
  if (gateways.length > 0) {
    validateGatewayNames(gateways, gatewaySemantics, r);
    appliesToGateway = !gateways.includes('mesh');
    appliesToMesh = !appliesToGateway;
  }
  if (!appliesToGateway) {
    for (const route of http) {
      for (const m of list(obj(route).match)) {
        for (const key of [...Object.keys(obj(obj(m).headers)), ...Object.keys(obj(obj(m).withoutHeaders))]) {
          if (isJwtClaimRoute(key)) r.error(`JWT claim based routing (key: ${key}) is only supported for gateway, found no gateways: [${gateways.join(' ')}]`);
        }
      }
    }
  }
  const sni = tls.some((t) => list(obj(t).match).some((m) => list(obj(m).sniHosts).length > 0));
  let allHostsValid = true;
  for (const host of hosts) {
    const err = appliesToGateway ? wildcardDomainForGateway(sni, host) : validateWildcardDomain(host);
    if (err) {
      if (!isIP(host)) {
        r.error(err);
        allHostsValid = false;
      }
    } else if (appliesToMesh && host === '*') {
      r.error('wildcard host * is not allowed for virtual services bound to the mesh gateway');
      allHostsValid = false;
    }
  }
  if (allHostsValid) {
    forEachMatchingHostPair(hosts, (i, j) => !r.error(`duplicate hosts in virtual service: ${hosts[i]} & ${hosts[j]}`).errorsFull);
  }
  if (http.length === 0 && tcp.length === 0 && tls.length === 0) r.error('http, tcp or tls must be provided in virtual service');
  for (const route of http) {
    if (route === null) r.error('http route may not be null');
    else httpRoute(obj(route), hosts.length === 0, gatewaySemantics, r);
  }
  let sniContext: SniContext | undefined;
  for (const route of tls) {
    if (route === null) continue;
    const t = obj(route);
    const matches = list(t.match);
    if (matches.length === 0) r.error('TLS route must have at least one match condition');
    for (const m of matches) {
      if (m === null) {
        r.error('TLS match may not be null');
        continue;
      }
      const sniHosts = list(obj(m).sniHosts).map(str);
      if (sniHosts.length === 0) r.error('TLS match must have at least one SNI host');
      for (const h of sniHosts) sniHost(h, (sniContext ??= { hosts, covers: subsetChecker(hosts) }), appliesToGateway, r);
      l4Match(m, r);
    }
    if (list(t.route).length === 0) r.error('TLS route is required');
    routeDestinations(t.route, gatewaySemantics, false, r);
  }
  for (const route of tcp) {
    if (route === null) continue;
    const t = obj(route);
    for (const m of list(t.match)) {
      if (m === null) r.error('tcp match may not be nil');
      else l4Match(m, r);
    }
    if (list(t.route).length === 0) r.error('TCP route is required');
    routeDestinations(t.route, gatewaySemantics, false, r);
  }
  r.check(validateExportTo(meta.namespace, spec.exportTo, false, false));
  unreachableRules(http, true, r);
  unreachableRules(tcp, false, r);
  unreachableRules(tls, false, r);
  return r;
}
