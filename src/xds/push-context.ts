// One immutable view of the mesh per debounced change (istiod's PushContext): the registry, the Istio
// config index and the mesh settings, with the lookups every generator shares.
import { parseGoDuration } from '../validation/decode.js';
import { list, obj } from '../validation/core.js';
import type { IstioConfig, MeshConfig, MeshEndpoint, MeshService, ProxyInfo, ServicePort } from '../types.js';
import { ConfigIndex, sidecarImports, visibleTo } from './config-index.js';
import type { TlsCredential } from '../kube/tls-secrets.js';
import { registryKey, type Registry } from './registry.js';

export interface MeshSettings {
  domainSuffix: string;
  trustDomain: string;
  rootNamespace: string;
  connectTimeoutNs: number;
  /** outboundTrafficPolicy ALLOW_ANY (else REGISTRY_ONLY). */
  allowAny: boolean;
}

export function meshSettings(mesh: MeshConfig, domainSuffix: string): MeshSettings {
  const timeout = typeof mesh.connectTimeout === 'string' ? mesh.connectTimeout : '10s';
  let connectTimeoutNs = 10e9;
  try {
    connectTimeoutNs = parseGoDuration(timeout);
  } catch {
    // An unparsable mesh value keeps Istio's default.
  }
  return {
    domainSuffix,
    trustDomain: typeof mesh.trustDomain === 'string' && mesh.trustDomain ? mesh.trustDomain : 'cluster.local',
    rootNamespace: typeof mesh.rootNamespace === 'string' && mesh.rootNamespace ? mesh.rootNamespace : 'istio-system',
    connectTimeoutNs,
    allowAny: (mesh.outboundTrafficPolicy as { mode?: string } | undefined)?.mode !== 'REGISTRY_ONLY',
  };
}

/** `outbound|port|subset|host`, split back into its parts (istiod's model.ParseSubsetKey). */
export interface ClusterKey {
  direction: string;
  port: number;
  subset: string;
  host: string;
}

export const clusterName = (port: number, subset: string, host: string): string => `outbound|${port}|${subset}|${host}`;

export function parseClusterName(name: string): ClusterKey | undefined {
  const parts = name.split('|');
  if (parts.length !== 4) return undefined;
  const port = Number(parts[1]);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  return { direction: parts[0]!, port, subset: parts[2]!, host: parts[3]! };
}

export interface Subset {
  name: string;
  labels: Record<string, string>;
  trafficPolicy?: Record<string, unknown>;
}

export interface Instance {
  service: MeshService;
  endpoint: MeshEndpoint;
}

export class PushContext {
  private readonly byHost = new Map<string, MeshService[]>();
  private byIp: Map<string, Instance[]> | undefined;

  constructor(
    readonly version: string,
    readonly registry: Registry,
    readonly config: ConfigIndex,
    readonly mesh: MeshSettings,
    /** TLS credentials by `namespace/name`, for SDS. */
    readonly credentials: Map<string, TlsCredential> = new Map(),
  ) {
    for (const s of registry.services) this.byHost.set(s.hostname, [...(this.byHost.get(s.hostname) ?? []), s]);
  }

  static build(version: string, registry: Registry, configs: IstioConfig[], mesh: MeshSettings, credentials?: Map<string, TlsCredential>): PushContext {
    return new PushContext(version, registry, new ConfigIndex(configs, mesh.domainSuffix, mesh.rootNamespace), mesh, credentials);
  }

  /** The service named `host` that a proxy in `namespace` may see; its own namespace's wins a tie. */
  serviceFor(host: string, namespace: string): MeshService | undefined {
    const candidates = (this.byHost.get(host) ?? []).filter((s) => visibleTo(s.exportTo, s.namespace, namespace));
    return candidates.find((s) => s.namespace === namespace) ?? candidates[0];
  }

  /** Services a proxy imports: exported to its namespace and, with a Sidecar, listed in its egress. */
  visibleServices(proxy: ProxyInfo): MeshService[] {
    const sidecar = this.config.sidecarFor(proxy);
    const seen = new Set<string>();
    const out: MeshService[] = [];
    for (const s of this.registry.services) {
      if (seen.has(s.hostname) || !visibleTo(s.exportTo, s.namespace, proxy.namespace) || !sidecarImports(sidecar, proxy.namespace, s)) continue;
      const chosen = this.serviceFor(s.hostname, proxy.namespace);
      if (!chosen) continue;
      seen.add(s.hostname);
      out.push(chosen);
    }
    return out;
  }

  /** The service port a cluster name (`<dir>|port|subset|host`) points at, seen from `namespace`. */
  clusterTarget(name: string, namespace: string): { key: ClusterKey; service: MeshService } | undefined {
    const key = parseClusterName(name);
    const service = key && this.serviceFor(key.host, namespace);
    return key && service && this.port(service, key.port) ? { key, service } : undefined;
  }

  endpoints(service: MeshService, port: number): MeshEndpoint[] {
    return (this.registry.endpoints.get(registryKey(service.hostname, service.namespace)) ?? []).filter((e) => e.servicePort === port);
  }

  port(service: MeshService, port: number): ServicePort | undefined {
    return service.ports.find((p) => p.port === port);
  }

  subsets(service: MeshService, namespace: string): Subset[] {
    const dr = this.config.destinationRuleFor(service, namespace);
    return list(dr?.spec.subsets)
      .map(obj)
      .filter((s) => typeof s.name === 'string')
      .map((s) => ({ name: s.name as string, labels: (s.labels ?? {}) as Record<string, string>, trafficPolicy: s.trafficPolicy as Record<string, unknown> | undefined }));
  }

  /** SPIFFE identities of the workloads behind a service (the SANs a client should accept). */
  serviceAccounts(service: MeshService, port: number): string[] {
    const sas = new Set<string>();
    for (const e of this.endpoints(service, port)) if (e.serviceAccount) sas.add(`spiffe://${this.mesh.trustDomain}/ns/${e.namespace}/sa/${e.serviceAccount}`);
    return [...sas].sort();
  }

  /** The endpoints at this proxy's own IP: the service ports it serves (istiod's ServiceTargets). */
  instancesOf(proxy: Pick<ProxyInfo, 'ip' | 'namespace'>): Instance[] {
    return (this.instancesByIp().get(proxy.ip) ?? []).filter((i) => i.service.namespace === proxy.namespace);
  }

  /** Whether any endpoint has this address (a proxy elsewhere gets what any other would). */
  hasInstancesAt(ip: string): boolean {
    return this.instancesByIp().has(ip);
  }

  /** Built on first use: sidecars look their IP up on every CDS and LDS generation. */
  private instancesByIp(): Map<string, Instance[]> {
    if (this.byIp) return this.byIp;
    const byIp = new Map<string, Instance[]>();
    for (const service of this.registry.services) {
      for (const endpoint of this.registry.endpoints.get(registryKey(service.hostname, service.namespace)) ?? []) {
        let list = byIp.get(endpoint.address);
        if (!list) byIp.set(endpoint.address, (list = []));
        list.push({ service, endpoint });
      }
    }
    return (this.byIp = byIp);
  }
}
