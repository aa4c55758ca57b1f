// Traffic policy rules shared by DestinationRule and Sidecar (istio validateTrafficPolicy and friends):
// connection pools, outlier detection, load balancing with locality settings, client TLS.
import { list, obj, present, Report, str, validateFQDN, validateIPAddress, validatePercent, validatePort, type Obj } from './core.js';
import { duration, durationError, enumValue, f64, i32, u32, u64 } from './decode.js';

const TOPOLOGY_LABELS = ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone'];

export function connectionPoolErrors(settings: unknown): string[] {
  if (!present(settings)) return [];
  const s = obj(settings);
  if (!present(s.http) && !present(s.tcp)) return ['connection pool must have at least one field'];
  const errs: string[] = [];
  const d = (v: unknown): void => {
    const e = durationError(duration(v));
    if (e) errs.push(e);
  };
  if (present(s.http)) {
    const h = obj(s.http);
    if (i32(h.http1MaxPendingRequests) < 0) errs.push('http1 max pending requests must be non-negative');
    if (i32(h.http2MaxRequests) < 0) errs.push('http2 max requests must be non-negative');
    if (i32(h.maxRequestsPerConnection) < 0) errs.push('max requests per connection must be non-negative');
    if (i32(h.maxRetries) < 0) errs.push('max retries must be non-negative');
    if (present(h.idleTimeout)) d(h.idleTimeout);
    if ((h.h2UpgradePolicy === 'UPGRADE' || h.h2UpgradePolicy === 2) && h.useClientProtocol === true) errs.push('use client protocol must not be true when H2UpgradePolicy is UPGRADE');
    if (i32(h.maxConcurrentStreams) < 0) errs.push('max concurrent streams must be non-negative');
    if (present(h.http2KeepAlive)) {
      const ka = obj(h.http2KeepAlive);
      if (!present(ka.interval)) errs.push('http2 keepalive interval is required');
      else d(ka.interval);
      if (!present(ka.timeout)) errs.push('http2 keepalive timeout is required');
      else d(ka.timeout);
    }
  }
  if (present(s.tcp)) {
    const t = obj(s.tcp);
    if (i32(t.maxConnections) < 0) errs.push('max connections must be non-negative');
    if (present(t.connectTimeout)) d(t.connectTimeout);
    if (present(t.maxConnectionDuration)) d(t.maxConnectionDuration);
    const idle = duration(t.idleTimeout);
    if (idle !== undefined && Math.trunc(idle / 1e6) !== 0) d(t.idleTimeout);
    if (present(t.tcpKeepalive)) {
      const ka = obj(t.tcpKeepalive);
      if (present(ka.time)) d(ka.time);
      if (present(ka.interval)) d(ka.interval);
    }
  }
  return errs;
}

function outlierDetection(outlier: unknown, r: Report): void {
  if (!present(outlier)) return;
  const o = obj(outlier);
  if (present(o.baseEjectionTime)) r.check(durationError(duration(o.baseEjectionTime)));
  if (i32(o.consecutiveErrors) !== 0) r.warn('outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead');
  if (o.splitExternalLocalOriginErrors !== true && u32(o.consecutiveLocalOriginFailures) > 0) {
    r.error('outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false');
  }
  if (present(o.interval)) r.check(durationError(duration(o.interval)));
  r.check(validatePercent(i32(o.maxEjectionPercent)));
  r.check(validatePercent(i32(o.minHealthPercent)));
}

function localityParts(locality: string): string[] | undefined {
  const items = locality.split('/');
  const parts = [items[0]!, items[1], items.slice(2).join('/')].slice(0, Math.min(items.length, 3)).map((x) => x ?? '');
  return parts.some((p) => p === '') ? undefined : parts;
}

function localitiesError(localities: string[]): string | undefined {
  const seen = new Map<string, Map<string, Set<string>>>();
  for (const loc of localities) {
    const stars = (loc.match(/\*/g) ?? []).length;
    if (stars > 0 && (stars > 1 || !loc.endsWith('*'))) return `locality ${loc} wildcard '*' number can not exceed 1 and must be in the end`;
    if (seen.has('*')) return `locality ${loc} overlap with previous specified ones`;
    const parts = localityParts(loc);
    if (!parts) return `locality ${loc} must not contain empty region/zone/subzone info`;
    const [region, zone, subzone] = parts as [string, string?, string?];
    const overlap = `locality ${loc} overlap with previous specified ones`;
    const zones = seen.get(region);
    if (parts.length === 1) {
      if (zones) return overlap;
      seen.set(region, new Map([['*', new Set(['*'])]]));
    } else if (parts.length === 2) {
      if (zones) {
        if (zones.has('*') || zones.has(zone!)) return overlap;
        zones.set(zone!, new Set(['*']));
      } else seen.set(region, new Map([[zone!, new Set(['*'])]]));
    } else if (zones) {
      if (zones.has('*')) return overlap;
      const subs = zones.get(zone!);
      if (subs) {
        if (subs.has('*') || subs.has(subzone!)) return overlap;
        subs.add(subzone!);
      } else zones.set(zone!, new Set([subzone!]));
    } else seen.set(region, new Map([[zone!, new Set([subzone!])]]));
  }
  return undefined;
}

function localityLb(lb: unknown, outlier: unknown, r: Report): void {
  if (!present(lb)) return;
  const l = obj(lb);
  const distribute = list(l.distribute);
  const failover = list(l.failover);
  const priority = list(l.failoverPriority).map(str);
  if (distribute.length > 0 && failover.length > 0) return void r.error("can not simultaneously specify 'distribute' and 'failover'");
  if (failover.length > 0) {
    const topo = priority.find((p) => TOPOLOGY_LABELS.includes(p));
    if (topo) return void r.error(`can not simultaneously set 'failover' and topology label '${topo}' in 'failover_priority'`);
  }
  const sources: string[] = [];
  for (const d of distribute) {
    const dist = obj(d);
    sources.push(str(dist.from));
    let total = 0;
    for (const w of Object.values(obj(dist.to))) {
      const weight = u32(w);
      if (weight <= 0 || weight > 100) return void r.error('locality weight must be in range [1, 100]');
      total += weight;
    }
    if (total !== 100) return void r.error(`total locality weight ${total} != 100`);
    r.check(localitiesError(Object.keys(obj(dist.to))));
  }
  r.check(localitiesError(sources));
  if ((failover.length > 0 || priority.length > 0) && !present(outlier)) r.warn('outlier detection policy must be provided for failover');
  for (const f of failover) {
    const from = str(obj(f).from);
    const to = str(obj(f).to);
    if (from === to) r.error('locality lb failover settings must specify different regions');
    if (from.includes('/') || to.includes('/')) r.error('locality lb failover only specify region');
    if (from.includes('*') || to.includes('*')) r.error("locality lb failover region should not contain '*' wildcard");
  }
}

function zoneAwareLb(lb: unknown, outlier: unknown, r: Report): void {
  if (!present(lb)) return;
  const l = obj(lb);
  const priority = list(l.failoverPriority).map(str);
  for (const p of priority) {
    if (TOPOLOGY_LABELS.includes(p)) r.error(`'failover_priority' for zone aware lb must not use topology label '${p}'; region- and zone-level routing are handled automatically`);
  }
  const failover = list(l.failover);
  if ((failover.length > 0 || priority.length > 0) && !present(outlier)) r.warn('outlier detection policy must be provided for failover');
  for (const f of failover) {
    const from = str(obj(f).from);
    const to = str(obj(f).to);
    if (from === to) r.error('zone aware lb failover settings must specify different regions');
    if (from.includes('/') || to.includes('/')) r.error('zone aware lb failover only specifies region; zone and subzone failover are handled automatically');
    if (from.includes('*') || to.includes('*')) r.error("zone aware lb failover region should not contain '*' wildcard");
  }
}

function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f <= Math.sqrt(x); f += 2) if (x % f === 0) return false;
  return true;
}

function loadBalancer(settings: unknown, outlier: unknown, r: Report): void {
  if (!present(settings)) return;
  const s = obj(settings);
  if (present(s.consistentHash)) {
    const ch = obj(s.consistentHash);
    if (present(ch.httpCookie)) {
      const cookie = obj(ch.httpCookie);
      if (str(cookie.name) === '') r.error('name required for HttpCookie');
      const names = new Set<string>();
      for (const a of list(cookie.attributes)) {
        const n = str(obj(a).name);
        if (n === '') r.error('cookie attribute name cannot be empty');
        else if (names.has(n)) r.error(`duplicate cookie attribute name: ${n}`);
        else names.add(n);
      }
    }
    const minRing = u64(ch.minimumRingSize);
    if (minRing !== 0) r.warn("consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead");
    if (minRing !== 0 && (present(ch.ringHash) || present(ch.maglev))) r.error('only one of MinimumRingSize or Maglev/Ringhash can be specified');
    if (present(ch.maglev)) {
      const size = u64(obj(ch.maglev).tableSize);
      if (size === 0) r.error('tableSize must be set for maglev');
      if (size >= 5000011) r.error('tableSize must be less than 5000011 for maglev');
      if (!isPrime(size)) r.error('tableSize must be a prime number for maglev');
    }
  }
  if (present(s.localityLbSetting) && present(s.zoneAwareLbSetting)) r.error('only one of localityLbSetting and zoneAwareLbSetting can be set');
  localityLb(s.localityLbSetting, outlier, r);
  zoneAwareLb(s.zoneAwareLbSetting, outlier, r);
  if (present(s.warmup)) {
    const w = obj(s.warmup);
    if (!present(w.duration)) r.error('duration is required');
    else r.check(durationError(duration(w.duration)));
    if (f64(w.minimumPercent) > 100) r.error('minimumPercent value should be less than or equal to 100');
    if (present(w.aggression) && f64(w.aggression) <= 0) r.error('aggression should be greater than 0');
  }
}

/** ClientTLSSettings (istio agent ValidateTLS). */
export function clientTLSErrors(namespace: string, settings: unknown): string[] {
  if (!present(settings)) return [];
  const s = obj(settings);
  const errs: string[] = [];
  const mode = str(s.mode) === '1' ? 'SIMPLE' : str(s.mode) === '2' ? 'MUTUAL' : str(s.mode);
  const cred = str(s.credentialName);
  if (cred.startsWith('configmap://')) {
    const rest = cred.slice('configmap://'.length);
    const parts = rest.split('/');
    if (rest === '' || parts.some((p) => p === '') || parts.length > 2) errs.push(`invalid configmap:// credentialName: invalid resource name "${cred}"`);
    else if ((parts.length === 2 ? parts[0] : namespace) !== namespace || namespace === '') errs.push(`invalid configmap:// credentialName: namespace must match the configuration namespace "${namespace}"`);
  }
  if (s.insecureSkipVerify === true) {
    if (mode === 'SIMPLE' && (str(s.caCertificates) !== '' || cred !== '' || present(s.subjectAltNames))) {
      errs.push('cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true');
    }
    if (mode === 'MUTUAL' && (str(s.caCertificates) !== '' || present(s.subjectAltNames))) errs.push('cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true');
  }
  if ((mode === 'SIMPLE' || mode === 'MUTUAL') && cred !== '') {
    if (str(s.clientCertificate) !== '' || str(s.caCertificates) !== '' || str(s.privateKey) !== '' || str(s.caCrl) !== '') {
      errs.push('cannot specify client certificates or CA certificate or CA CRL If credentialName is set');
    }
    return errs;
  }
  if (mode === 'MUTUAL') {
    if (str(s.clientCertificate) === '') errs.push('client certificate required for mutual tls');
    if (str(s.privateKey) === '') errs.push('private key required for mutual tls');
  }
  return errs;
}

const POLICY_FIELDS = ['outlierDetection', 'connectionPool', 'loadBalancer', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'];

export function trafficPolicy(namespace: string, policy: unknown, r: Report): void {
  if (!present(policy)) return;
  const p = obj(policy);
  if (!POLICY_FIELDS.some((f) => present(p[f]))) return void r.error('traffic policy must have at least one field');
  if (present(p.tunnel) && present(p.proxyProtocol)) return void r.error('tunnel and proxyProtocol must not be set together');
  outlierDetection(p.outlierDetection, r);
  for (const e of connectionPoolErrors(p.connectionPool)) r.error(e);
  loadBalancer(p.loadBalancer, p.outlierDetection, r);
  for (const e of clientTLSErrors(namespace, p.tls)) r.error(e);
  for (const item of list(p.portLevelSettings)) portPolicy(namespace, item, r);
  if (present(p.tunnel)) tunnel(obj(p.tunnel), r);
  if (present(p.proxyProtocol)) {
    const v = enumValue(obj(p.proxyProtocol).version, ['V1', 'V2'], 'istio.networking.v1alpha3.TrafficPolicy.ProxyProtocol.VERSION') ?? 'V1';
    if (v !== 'V1' && v !== 'V2') r.error(`proxy protocol version is invalid: ${v}`);
  }
}

function portPolicy(namespace: string, item: unknown, r: Report): void {
  if (item === null) return void r.error('traffic policy may not be null');
  const t: Obj = obj(item);
  if (!present(t.port)) r.error('portTrafficPolicy must have valid port');
  if (!['outlierDetection', 'connectionPool', 'loadBalancer', 'tls'].some((f) => present(t[f]))) return void r.error('port traffic policy must have at least one field');
  outlierDetection(t.outlierDetection, r);
  for (const e of connectionPoolErrors(t.connectionPool)) r.error(e);
  loadBalancer(t.loadBalancer, t.outlierDetection, r);
  for (const e of clientTLSErrors(namespace, t.tls)) r.error(e);
}

function tunnel(t: Obj, r: Report): void {
  const protocol = str(t.protocol);
  if (protocol !== '' && protocol !== 'CONNECT' && protocol !== 'POST') r.error('tunnel protocol must be "CONNECT" or "POST"');
  const host = str(t.targetHost);
  const fqdn = validateFQDN(host);
  const ip = validateIPAddress(host);
  if (fqdn && ip) r.error(`tunnel target host must be valid FQDN or IP address: ${fqdn}; ${ip}`);
  const port = validatePort(u32(t.targetPort));
  if (port) r.error(`tunnel target port is invalid: ${port}`);
}
