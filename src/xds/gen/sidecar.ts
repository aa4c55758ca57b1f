// Envoy sidecars (istiod's core generators, reduced): outbound clusters for everything the proxy imports
// plus inbound clusters for its own ports; virtualOutbound (15001), virtualInbound (15006) and one outbound
// listener per port; RDS `<port>` with a virtual host per service.
import type { ProxyInfo } from '../../types.js';
import type { PushContext } from '../push-context.js';
import { ANY } from '../protos.js';
import { serviceClusters } from './clusters.js';
import type { Msg } from './common.js';
import { hcm, isHttp, rds, socket, staticClusters, tcpProxy } from './listeners.js';
import { serviceVirtualHost } from './routes.js';

function inboundPorts(ctx: PushContext, proxy: ProxyInfo): Map<number, string> {
  const ports = new Map<number, string>();
  for (const { service, endpoint } of ctx.instancesOf(proxy)) {
    const sp = ctx.port(service, endpoint.servicePort);
    if (sp && !ports.has(endpoint.port)) ports.set(endpoint.port, sp.protocol);
  }
  return ports;
}

export function sidecarClusters(ctx: PushContext, proxy: ProxyInfo): Msg[] {
  const out = ctx.visibleServices(proxy).flatMap((s) => serviceClusters(ctx, s, { proxyless: false, proxyNamespace: proxy.namespace }));
  for (const port of inboundPorts(ctx, proxy).keys()) {
    out.push({
      name: `inbound|${port}||`,
      type: 'ORIGINAL_DST',
      lb_policy: 'CLUSTER_PROVIDED',
      connect_timeout: { seconds: 10 },
      upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } },
    });
  }
  return [...out, ...staticClusters()];
}

export function sidecarListeners(ctx: PushContext, proxy: ProxyInfo): Msg[] {
  const passthrough = ctx.mesh.allowAny ? 'PassthroughCluster' : 'BlackHoleCluster';
  const listeners: Msg[] = [
    {
      name: 'virtualOutbound',
      address: socket('0.0.0.0', 15001),
      use_original_dst: true,
      traffic_direction: 'OUTBOUND',
      filter_chains: [{ name: 'virtualOutbound-catchall-tcp', filters: [tcpProxy(passthrough, passthrough)] }],
    },
  ];
  const inboundChains: Msg[] = [...inboundPorts(ctx, proxy)].map(([port, protocol]) => ({
    name: `0.0.0.0_${port}`,
    filter_chain_match: { destination_port: port },
    filters: [isHttp(protocol)
      ? hcm(`inbound_0.0.0.0_${port}`, { route_config: { name: `inbound|${port}||`, virtual_hosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: `inbound|${port}||`, timeout: { seconds: 0 } } }] }] } })
      : tcpProxy(`inbound|${port}||`, `inbound|${port}||`)],
  }));
  listeners.push({
    name: 'virtualInbound',
    address: socket('0.0.0.0', 15006),
    traffic_direction: 'INBOUND',
    listener_filters: [
      { name: 'envoy.filters.listener.original_dst', typed_config: { '@type': ANY.originalDst } },
      { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': ANY.tlsInspector } },
      { name: 'envoy.filters.listener.http_inspector', typed_config: { '@type': ANY.httpInspector } },
    ],
    filter_chains: [...inboundChains, { name: 'virtualInbound-catchall-tcp', filters: [tcpProxy('InboundPassthroughCluster', 'InboundPassthroughCluster')] }],
  });
  // One listener per outbound port: HTTP ports share `0.0.0.0_<port>` and its RDS `<port>`; TCP is per VIP.
  const httpPorts = new Set<number>();
  for (const s of ctx.visibleServices(proxy)) {
    for (const p of s.ports) {
      if (isHttp(p.protocol)) {
        if (httpPorts.has(p.port)) continue;
        httpPorts.add(p.port);
        listeners.push({ name: `0.0.0.0_${p.port}`, address: socket('0.0.0.0', p.port), bind_to_port: false, traffic_direction: 'OUTBOUND', filter_chains: [{ filters: [hcm(`outbound_0.0.0.0_${p.port}`, rds(String(p.port)))] }] });
      } else if (s.addresses[0] && s.resolution !== 'PASSTHROUGH') {
        listeners.push({
          name: `${s.addresses[0]}_${p.port}`,
          address: socket(s.addresses[0], p.port),
          bind_to_port: false,
          traffic_direction: 'OUTBOUND',
          filter_chains: [{ filters: [tcpProxy(`outbound|${p.port}||${s.hostname}`, `outbound|${p.port}||${s.hostname}`)] }],
        });
      }
    }
  }
  return listeners;
}

export function sidecarRoute(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const port = Number(name);
  if (!Number.isInteger(port) || port <= 0) return undefined;
  const hosts = ctx
    .visibleServices(proxy)
    .filter((s) => s.ports.some((p) => p.port === port && isHttp(p.protocol)))
    .map((s) => serviceVirtualHost(ctx, s, port, { listenerPort: port, proxy, proxyless: false, gateway: 'mesh' }));
  const catchAll = ctx.mesh.allowAny
    ? { name: 'allow_any', domains: ['*'], routes: [{ name: 'allow_any', match: { prefix: '/' }, route: { cluster: 'PassthroughCluster', timeout: { seconds: 0 } } }] }
    : { name: 'block_all', domains: ['*'], routes: [{ name: 'block_all', match: { prefix: '/' }, direct_response: { status: 502 } }] };
  return { name, virtual_hosts: [...hosts, catchAll], validate_clusters: false };
}
