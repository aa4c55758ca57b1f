// Envoy sidecars and gateways (istiod's core generators, reduced): wildcard CDS/LDS for everything the
// proxy imports, RDS by name, EDS from the shared builder. Sidecars get virtualOutbound (15001),
// virtualInbound (15006), one outbound listener per port and inbound clusters for their own ports;
// gateways get one listener per Gateway server port with routes from VirtualServices bound to them.
import type { IstioConfig, ProxyInfo } from '../../types.js';
import { hostMatches } from '../config-index.js';
import type { PushContext } from '../push-context.js';
import { ANY, TYPE } from '../protos.js';
import { serviceClusters } from './clusters.js';
import { ROUTER_FILTER, type Msg } from './common.js';
import { buildLoadAssignment } from './endpoints.js';
import { generateSecret } from './secrets.js';
import { serviceVirtualHost, virtualServiceRoutes } from './routes.js';

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-Web']);
const isHttp = (p: string): boolean => HTTP_PROTOCOLS.has(p);

const socket = (address: string, port: number): Msg => ({ socket_address: { address, port_value: port } });

function tcpProxy(statPrefix: string, cluster: string): Msg {
  return { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': ANY.tcpProxy, stat_prefix: statPrefix, cluster } };
}

function hcm(statPrefix: string, routing: Msg): Msg {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: { '@type': ANY.hcm, stat_prefix: statPrefix, ...routing, http_filters: [{ name: 'envoy.filters.http.fault', typed_config: { '@type': ANY.fault } }, ROUTER_FILTER], use_remote_address: false },
  };
}

const rds = (name: string): Msg => ({ rds: { config_source: { ads: {}, initial_fetch_timeout: { seconds: 0 }, resource_api_version: 'V3' }, route_config_name: name } });

function staticClusters(): Msg[] {
  return [
    { name: 'BlackHoleCluster', type: 'STATIC', connect_timeout: { seconds: 10 } },
    { name: 'PassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 } },
    { name: 'InboundPassthroughCluster', type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 }, upstream_bind_config: { source_address: { address: '127.0.0.6', port_value: 0 } } },
  ];
}

/** Inbound ports of this sidecar: the workload ports behind the services it serves. */
function inboundPorts(ctx: PushContext, proxy: ProxyInfo): Map<number, string> {
  const ports = new Map<number, string>();
  for (const { service, endpoint } of ctx.instancesOf(proxy)) {
    const sp = ctx.port(service, endpoint.servicePort);
    if (sp && !ports.has(endpoint.port)) ports.set(endpoint.port, sp.protocol);
  }
  return ports;
}

function sidecarClusters(ctx: PushContext, proxy: ProxyInfo): Msg[] {
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

function sidecarListeners(ctx: PushContext, proxy: ProxyInfo): Msg[] {
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

function sidecarRoute(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
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

// ---- gateways ----

interface GatewayServer {
  gateway: IstioConfig;
  port: number;
  portName: string;
  protocol: string;
  hosts: string[];
  tls: { mode?: string; credentialName?: string };
}

function gatewayServers(ctx: PushContext, proxy: ProxyInfo): GatewayServer[] {
  const out: GatewayServer[] = [];
  for (const gw of ctx.config.gatewaysFor(proxy)) {
    for (const s of Array.isArray(gw.spec.servers) ? (gw.spec.servers as Array<Record<string, unknown>>) : []) {
      const port = (s.port ?? {}) as { number?: number; protocol?: string; name?: string };
      if (typeof port.number !== 'number') continue;
      out.push({
        gateway: gw,
        port: port.number,
        portName: String(port.name ?? ''),
        protocol: String(port.protocol ?? 'HTTP').toUpperCase(),
        hosts: (Array.isArray(s.hosts) ? (s.hosts as string[]) : []).map((h) => (h.includes('/') ? h.split('/')[1]! : h)),
        tls: (s.tls ?? {}) as GatewayServer['tls'],
      });
    }
  }
  return out;
}

/** A server that terminates TLS with a Kubernetes credential fetched over SDS. */
const terminatesTls = (s: GatewayServer): boolean => (s.protocol === 'HTTPS' || s.protocol === 'TLS') && (s.tls.mode === 'SIMPLE' || s.tls.mode === 'MUTUAL') && !!s.tls.credentialName;

/** istiod's gateway RDS names: `http.<port>` for plain HTTP, one per server for HTTPS. */
const httpsRouteName = (s: GatewayServer): string => `https.${s.port}.${s.portName}.${s.gateway.name}.${s.gateway.namespace}`;

const SDS_ADS = { ads: {}, resource_api_version: 'V3' };

function downstreamTls(s: GatewayServer): Msg {
  const common: Msg = { tls_certificate_sds_secret_configs: [{ name: `kubernetes://${s.tls.credentialName}`, sds_config: SDS_ADS }], alpn_protocols: s.protocol === 'HTTPS' ? ['h2', 'http/1.1'] : [] };
  if (s.tls.mode === 'MUTUAL') common.validation_context_sds_secret_config = { name: `kubernetes://${s.tls.credentialName}-cacert`, sds_config: SDS_ADS };
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': ANY.downstreamTls, common_tls_context: common, require_client_certificate: s.tls.mode === 'MUTUAL' } };
}

function gatewayListeners(ctx: PushContext, proxy: ProxyInfo): Msg[] {
  const byPort = new Map<number, GatewayServer[]>();
  for (const s of gatewayServers(ctx, proxy)) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s]);
  return [...byPort].map(([port, servers]) => {
    const tlsServers = servers.filter(terminatesTls);
    const listener: Msg = { name: `0.0.0.0_${port}`, address: socket('0.0.0.0', port), traffic_direction: 'OUTBOUND' };
    if (tlsServers.length) {
      listener.listener_filters = [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': ANY.tlsInspector } }];
      listener.filter_chains = tlsServers.map((s) => ({
        filter_chain_match: { server_names: s.hosts.filter((h) => h !== '*') },
        transport_socket: downstreamTls(s),
        filters: [s.protocol === 'HTTPS' ? hcm(`outbound_0.0.0.0_${port}`, rds(httpsRouteName(s))) : tcpProxy(`gateway_${port}`, 'BlackHoleCluster')],
      }));
    } else {
      const protocol = servers[0]!.protocol;
      listener.filter_chains = [{ filters: [isHttp(protocol) ? hcm(`outbound_0.0.0.0_${port}`, rds(`http.${port}`)) : tcpProxy(`gateway_${port}`, 'BlackHoleCluster')] }];
    }
    return listener;
  });
}

function gatewayRoute(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const servers = gatewayServers(ctx, proxy).filter((s) => (terminatesTls(s) ? httpsRouteName(s) === name : `http.${s.port}` === name));
  if (servers.length === 0) return undefined;
  const vhosts = new Map<string, Msg>();
  for (const server of servers) {
    const gwName = `${server.gateway.namespace}/${server.gateway.name}`;
    for (const vs of ctx.config.virtualServices) {
      if (!ctx.config.boundTo(vs, gwName)) continue;
      for (const host of ctx.config.vsHosts(vs)) {
        if (!server.hosts.some((h) => hostMatches(h, host) || hostMatches(host, h)) || vhosts.has(host)) continue;
        const routes = virtualServiceRoutes(ctx, vs, { listenerPort: server.port, proxy, proxyless: false, gateway: gwName });
        vhosts.set(host, { name: `${host}:${server.port}`, domains: [host, `${host}:*`], routes });
      }
    }
  }
  return { name, virtual_hosts: [...vhosts.values()], validate_clusters: false };
}

/** Resources of one type for an Envoy proxy; `names` undefined means all (wildcard LDS/CDS). */
export function generateEnvoy(ctx: PushContext, proxy: ProxyInfo, typeUrl: string, names: string[] | undefined): Msg[] {
  const gateway = proxy.type === 'router';
  const pick = (all: Msg[]): Msg[] => (names ? all.filter((r) => names.includes(r.name as string)) : all);
  switch (typeUrl) {
    case TYPE.cluster:
      return pick(gateway ? [...ctx.visibleServices(proxy).flatMap((s) => serviceClusters(ctx, s, { proxyless: false, proxyNamespace: proxy.namespace })), ...staticClusters()] : sidecarClusters(ctx, proxy));
    case TYPE.listener:
      return pick(gateway ? gatewayListeners(ctx, proxy) : sidecarListeners(ctx, proxy));
    case TYPE.route:
      return (names ?? []).map((n) => (gateway ? gatewayRoute(ctx, proxy, n) : sidecarRoute(ctx, proxy, n))).filter((r): r is Msg => r !== undefined);
    case TYPE.endpoint:
      return (names ?? []).map((n) => buildLoadAssignment(ctx, n, proxy.namespace)).filter((r): r is Msg => r !== undefined);
    case TYPE.secret:
      return (names ?? []).map((n) => generateSecret(ctx, proxy, n)).filter((r): r is Msg => r !== undefined);
    default:
      return [];
  }
}

