// Istio networking config indexed the way istiod's PushContext consults it: which VirtualService,
// DestinationRule and Sidecar apply to a host as seen from a proxy's namespace. Pure.
import { LruCache } from '../cache/lru.js';
import type { KubeObject } from '../kube/store.js';
import type { IstioConfig, MeshService, ProxyInfo } from '../types.js';
import { list, obj, stringList } from '../validation/core.js';

type Spec = Record<string, unknown>;

export function toConfig(o: KubeObject): IstioConfig {
  const m = (o.metadata ?? {}) as Record<string, unknown>;
  return {
    kind: o.kind ?? '',
    name: String(m.name ?? ''),
    namespace: String(m.namespace ?? 'default'),
    creationTimestamp: String(m.creationTimestamp ?? ''),
    spec: (typeof o.spec === 'object' && o.spec !== null ? o.spec : {}) as Spec,
  };
}

/** Istio's ResolveShortnameToFQDN: a name with no dot is a service in the config's namespace. */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  if (host.includes('*') || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${domainSuffix}`;
}

/** Does `pattern` (possibly `*` or `*.suffix`) cover the concrete `host`? */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*')) return host.endsWith(pattern.slice(1));
  return pattern === host;
}

/** How specific a pattern is for host matching: exact beats longer wildcards beats shorter ones. */
const specificity = (pattern: string): number => (pattern.includes('*') ? pattern.length : Number.MAX_SAFE_INTEGER);

export function visibleTo(exportTo: string[], ownNamespace: string, namespace: string): boolean {
  if (exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === namespace || (e === '.' && ownNamespace === namespace));
}

const byAge = (a: IstioConfig, b: IstioConfig): number =>
  a.creationTimestamp.localeCompare(b.creationTimestamp) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

/** Configs by the FQDN they name, exact hosts in a map and wildcards in a list, in age order. */
class HostIndex {
  private readonly exact = new Map<string, Array<{ config: IstioConfig; host: string }>>();
  private readonly wildcards: Array<{ config: IstioConfig; host: string }> = [];

  add(config: IstioConfig, host: string): void {
    if (host.includes('*')) this.wildcards.push({ config, host });
    else {
      let list = this.exact.get(host);
      if (!list) this.exact.set(host, (list = []));
      list.push({ config, host });
    }
  }

  /** Every (config, pattern) whose pattern covers `host`, exact ones first. */
  matching(host: string): Array<{ config: IstioConfig; host: string }> {
    return [...(this.exact.get(host) ?? []), ...this.wildcards.filter((w) => hostMatches(w.host, host))];
  }
}

const DR_CACHE_ENTRIES = 65_536;

export class ConfigIndex {
  readonly virtualServices: IstioConfig[];
  readonly destinationRules: IstioConfig[];
  readonly sidecars: IstioConfig[];
  readonly gateways: IstioConfig[];
  readonly peerAuthentications: IstioConfig[];
  readonly authorizationPolicies: IstioConfig[];
  private readonly vsIndex = new HostIndex();
  private readonly drIndex = new HostIndex();
  private readonly resolvedHosts = new Map<IstioConfig, string[]>();
  /** DestinationRule lookups by service and proxy namespace (the caller's), bounded: a lookup is cheap to redo. */
  private readonly drCache = new LruCache<IstioConfig | null>(DR_CACHE_ENTRIES, DR_CACHE_ENTRIES * 256);
  /** Position in age order, for ties. */
  private readonly age = new Map<IstioConfig, number>();

  constructor(configs: IstioConfig[], readonly domainSuffix: string, readonly rootNamespace: string) {
    const of = (kind: string): IstioConfig[] => configs.filter((c) => c.kind === kind).sort(byAge);
    this.virtualServices = of('VirtualService');
    this.destinationRules = of('DestinationRule');
    this.sidecars = of('Sidecar');
    this.gateways = of('Gateway');
    this.peerAuthentications = of('PeerAuthentication');
    this.authorizationPolicies = of('AuthorizationPolicy');
    for (const list of [this.virtualServices, this.destinationRules]) list.forEach((c, i) => this.age.set(c, i));
    for (const vs of this.virtualServices) for (const h of this.vsHosts(vs)) this.vsIndex.add(vs, h);
    for (const dr of this.destinationRules) this.drIndex.add(dr, resolveHost(String(dr.spec.host ?? ''), dr.namespace, domainSuffix));
  }

  /** VirtualService hosts resolved to FQDNs. */
  vsHosts(vs: IstioConfig): string[] {
    let hosts = this.resolvedHosts.get(vs);
    if (!hosts) this.resolvedHosts.set(vs, (hosts = stringList(vs.spec.hosts).map((h) => resolveHost(h, vs.namespace, this.domainSuffix))));
    return hosts;
  }

  /**
   * The VirtualService that routes `host` for a proxy in `namespace` bound to `gateway` ('mesh' for
   * sidecars and gRPC). Like istiod for sidecars, one wins: the most specific host, then the oldest.
   */
  virtualServiceFor(host: string, namespace: string, gateway = 'mesh'): IstioConfig | undefined {
    let best: { vs: IstioConfig; rank: number; age: number } | undefined;
    for (const { config: vs, host: h } of this.vsIndex.matching(host)) {
      if (!visibleTo(stringList(vs.spec.exportTo), vs.namespace, namespace) || !this.boundTo(vs, gateway)) continue;
      const rank = specificity(h);
      const age = this.age.get(vs)!;
      if (!best || rank > best.rank || (rank === best.rank && age < best.age)) best = { vs, rank, age };
    }
    return best?.vs;
  }

  /** Whether a VirtualService applies to sidecars ('mesh') or to the named gateway (`ns/name`). */
  boundTo(vs: IstioConfig, gateway: string): boolean {
    const gws = stringList(vs.spec.gateways);
    if (gws.length === 0) return gateway === 'mesh';
    return gws.some((g) => (g === 'mesh' ? gateway === 'mesh' : (g.includes('/') ? g : `${vs.namespace}/${g}`) === gateway));
  }

  /**
   * The DestinationRule for `service` seen from `namespace`: the proxy's namespace first, then the
   * service's, then the root namespace, then any other that exports to it; the most specific host within.
   */
  destinationRuleFor(service: MeshService, namespace: string): IstioConfig | undefined {
    const key = `${service.hostname}|${service.namespace}|${namespace}`;
    const cached = this.drCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const order = [namespace, service.namespace, this.rootNamespace];
    let best: { dr: IstioConfig; rank: number; age: number } | undefined;
    for (const { config: dr, host } of this.drIndex.matching(service.hostname)) {
      if (!visibleTo(stringList(dr.spec.exportTo), dr.namespace, namespace)) continue;
      const nsRank = order.indexOf(dr.namespace);
      // Namespace precedence dominates; host specificity breaks ties within one namespace tier; then age.
      const rank = (nsRank === -1 ? 0 : (order.length - nsRank) * 1e12) + Math.min(specificity(host), 1e12 - 1);
      const age = this.age.get(dr)!;
      if (!best || rank > best.rank || (rank === best.rank && age < best.age)) best = { dr, rank, age };
    }
    this.drCache.set(key, best?.dr ?? null);
    return best?.dr;
  }

  /** The Sidecar resource for a proxy: a selector match in its namespace, else the namespace default, else the root default. */
  sidecarFor(proxy: Pick<ProxyInfo, 'namespace' | 'labels'>): IstioConfig | undefined {
    const selects = (s: IstioConfig): boolean => {
      const labels = (s.spec.workloadSelector as { labels?: Record<string, string> } | undefined)?.labels;
      return !!labels && Object.entries(labels).every(([k, v]) => proxy.labels[k] === v);
    };
    const hasSelector = (s: IstioConfig): boolean => !!(s.spec.workloadSelector as { labels?: object } | undefined)?.labels;
    return (
      this.sidecars.find((s) => s.namespace === proxy.namespace && hasSelector(s) && selects(s)) ??
      this.sidecars.find((s) => s.namespace === proxy.namespace && !hasSelector(s)) ??
      this.sidecars.find((s) => s.namespace === this.rootNamespace && !hasSelector(s))
    );
  }

  /**
   * The mutual TLS mode a workload accepts on a port (istiod's PeerAuthentication policy applier): the
   * workload's own policy (selector), else its namespace's, else the mesh's (root namespace); UNSET or a
   * missing mode inherits from the next level; port-level settings win for their port; PERMISSIVE by default.
   */
  mtlsMode(namespace: string, labels: Record<string, string>, port: number): 'STRICT' | 'PERMISSIVE' | 'DISABLE' {
    const selector = (p: IstioConfig): Record<string, string> | undefined => (p.spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
    const levels = [
      this.peerAuthentications.find((p) => p.namespace === namespace && selector(p) && Object.entries(selector(p)!).every(([k, v]) => labels[k] === v)),
      this.peerAuthentications.find((p) => p.namespace === namespace && !selector(p)),
      this.peerAuthentications.find((p) => p.namespace === this.rootNamespace && !selector(p)),
    ];
    for (const p of levels) {
      if (!p) continue;
      const portMode = ((p.spec.portLevelMtls ?? {}) as Record<string, { mode?: string }>)[String(port)]?.mode;
      const mode = portMode && portMode !== 'UNSET' ? portMode : (p.spec.mtls as { mode?: string } | undefined)?.mode;
      if (mode === 'STRICT' || mode === 'PERMISSIVE' || mode === 'DISABLE') return mode;
    }
    return 'PERMISSIVE';
  }

  /** Gateways whose selector matches a gateway proxy's labels. */
  gatewaysFor(proxy: Pick<ProxyInfo, 'labels'>): IstioConfig[] {
    return this.gateways.filter((g) => {
      const sel = (g.spec.selector ?? {}) as Record<string, string>;
      return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => proxy.labels[k] === v);
    });
  }
}

/** Sidecar egress scoping: is `service` among the hosts a Sidecar's egress listeners import? */
export function sidecarImports(sidecar: IstioConfig | undefined, proxyNamespace: string, service: MeshService): boolean {
  if (!sidecar) return true;
  const egress = list(sidecar.spec.egress).map(obj);
  if (egress.length === 0) return true;
  return egress.some((e) =>
    stringList(e.hosts).some((h) => {
      const [ns = '*', host = '*'] = h.includes('/') ? h.split('/', 2) : ['*', h];
      const nsOk = ns === '*' || (ns === '.' ? service.namespace === proxyNamespace : ns === '~' ? false : ns === service.namespace);
      return nsOk && hostMatches(host, service.hostname);
    }),
  );
}
