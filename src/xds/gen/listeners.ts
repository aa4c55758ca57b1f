// Listener and network-filter builders shared by the sidecar and gateway generators.
import { ANY } from '../protos.js';
import { ADS_CONFIG, FAULT_FILTER, ROUTER_FILTER, type Msg } from './common.js';

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-Web']);
export const isHttp = (p: string): boolean => HTTP_PROTOCOLS.has(p);

export const socket = (address: string, port: number): Msg => ({ socket_address: { address, port_value: port } });

export function tcpProxy(statPrefix: string, cluster: string): Msg {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': ANY.tcpProxy, stat_prefix: statPrefix, cluster } };
}

export function hcm(statPrefix: string, routing: Msg): Msg {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': ANY.hcm, stat_prefix: statPrefix, ...routing, http_filters: [FAULT_FILTER, ROUTER_FILTER], use_remote_address: false },
  };
}

export const rds = (name: string): Msg => ({ rds: { config_source: ADS_CONFIG, route_config_name: name } });

/** The clusters every Envoy gets: where unmatched traffic goes. */
export function staticClusters(): Msg[] {
  return [
    { name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: { seconds: 10 } },
    { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 } },
    { name: 'InboundPassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 }, upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } },
  ];
}

/** Inbound ports of this sidecar: the workload ports behind the services it serves. */
