// EDS: the ClusterLoadAssignment for an outbound cluster, endpoints grouped by locality, subset
// clusters holding only the endpoints whose labels carry the subset's (istiod's endpoint_builder).
import type { MeshEndpoint } from '../../types.js';
import type { PushContext } from '../push-context.js';
import { toStruct, type Msg } from './common.js';

const HEALTH: Record<MeshEndpoint['health'], string> = { HEALTHY: 'HEALTHY', UNHEALTHY: 'UNHEALTHY', DRAINING: 'DRAINING' };

function lbEndpoint(e: MeshEndpoint): Msg {
  const filter: Record<string, unknown> = { istio: { workload: `${e.labels.app ?? ''};${e.namespace};;;` } };
  if (e.tlsMode === 'istio') filter['envoy.transport_socket_match'] = { tlsMode: 'istio' };
  return {
    endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
    health_status: HEALTH[e.health],
    load_balancing_weight: e.weight && e.weight > 0 ? e.weight : 1,
    metadata: { filter_metadata: Object.fromEntries(Object.entries(filter).map(([k, v]) => [k, toStruct(v as Record<string, unknown>)])) },
  };
}

/** Undefined when the cluster name does not name a known service port. */
export function buildLoadAssignment(ctx: PushContext, name: string, proxyNamespace: string): Msg | undefined {
  const target = ctx.clusterTarget(name, proxyNamespace);
  if (!target || target.key.direction !== 'outbound') return undefined;
  const { key, service } = target;
  let endpoints = ctx.endpoints(service, key.port).filter((e) => e.health !== 'UNHEALTHY');
  if (key.subset) {
    const subset = ctx.subsets(service, proxyNamespace).find((s) => s.name === key.subset);
    const labels = subset?.labels ?? {};
    // An unknown subset selects nothing, like istiod.
    endpoints = subset ? endpoints.filter((e) => Object.entries(labels).every(([k, v]) => e.labels[k] === v)) : [];
  }
  const groups = new Map<string, MeshEndpoint[]>();
  for (const e of endpoints) {
    const k = `${e.locality.region}/${e.locality.zone}/${e.locality.subzone}`;
    groups.set(k, [...(groups.get(k) ?? []), e]);
  }
  return {
    cluster_name: name,
    endpoints: [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, eps]) => {
      const l = eps[0]!.locality;
      const lb = eps.map(lbEndpoint);
      return {
        locality: { region: l.region, zone: l.zone, sub_zone: l.subzone },
        lb_endpoints: lb,
        // gRPC skips localities without a weight; Envoy uses it for locality-weighted balancing.
        load_balancing_weight: lb.reduce((n, e) => n + (e.load_balancing_weight as number), 0),
      };
    }),
  };
}
