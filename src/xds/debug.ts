// istiod's xDS debug views for :15014: /debug/syncz (what each proxy was sent and has ACKed) and
// /debug/config_dump?proxyID= (the resources a proxy currently gets, in Envoy's config-dump shape).
import type { Connection, DiscoveryServer } from './ads.js';
import { shortType } from './ads.js';
import { TYPE } from './protos.js';

const SYNC_FIELDS: Record<string, string> = { [TYPE.cluster]: 'cluster', [TYPE.listener]: 'listener', [TYPE.route]: 'route', [TYPE.endpoint]: 'endpoint', [TYPE.secret]: 'secret' };

/** `namespace`: only that namespace's proxies (istiod's ?namespace=). */
export function syncz(discovery: DiscoveryServer, namespace?: string): Array<Record<string, unknown>> {
  return [...discovery.connections.values()].filter((c) => !namespace || c.proxy.namespace === namespace).map((c) => {
    const row: Record<string, unknown> = {
      proxy: c.proxy.id,
      connection_id: c.id,
      proxy_type: c.proxy.type,
      proxyless: c.proxy.proxyless,
      delta: c.delta,
      connected_at: c.connectedAt.toISOString(),
    };
    const errors: Record<string, string> = {};
    for (const [typeUrl, w] of c.watches) {
      const f = SYNC_FIELDS[typeUrl] ?? shortType(typeUrl);
      row[`${f}_sent`] = w.nonceSent ?? '';
      row[`${f}_acked`] = w.nonceAcked ?? '';
      row[`${f}_version_acked`] = w.versionAcked ?? '';
      if (w.lastError) errors[f] = w.lastError;
    }
    if (Object.keys(errors).length) row.errors = errors;
    return row;
  });
}

/** Matches istioctl's proxy IDs: the full node id or `<pod>.<namespace>`. */
export function findConnection(discovery: DiscoveryServer, proxyID: string): Connection | undefined {
  for (const c of discovery.connections.values()) if (c.proxy.id === proxyID || `${c.proxy.podName}.${c.proxy.namespace}` === proxyID) return c;
  return undefined;
}

const DUMP_TYPES: Array<[string, string, string]> = [
  [TYPE.cluster, 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', 'dynamic_active_clusters'],
  [TYPE.listener, 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump', 'dynamic_listeners'],
  [TYPE.route, 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump', 'dynamic_route_configs'],
  [TYPE.endpoint, 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump', 'dynamic_endpoint_configs'],
];

export function configDump(discovery: DiscoveryServer, conn: Connection): Record<string, unknown> {
  const configs = DUMP_TYPES.flatMap(([typeUrl, dumpType, field]) => {
    const w = conn.watches.get(typeUrl);
    if (!w) return [];
    const resources = discovery.resources(conn.proxy, typeUrl, w.wildcard ? undefined : [...w.names]);
    return [{ '@type': dumpType, [field]: resources.map((r) => ({ name: r.name, version_info: w.versionSent ?? '', resource: { '@type': typeUrl, ...r.object }, ...(w.lastError ? { error_state: { details: w.lastError } } : {}) })) }];
  });
  return { proxy: conn.proxy.id, configs };
}
