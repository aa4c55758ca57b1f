// Gateways (node type `router`): one listener per port of the Gateways selecting the proxy, plain HTTP
// with RDS `http.<port>`, HTTPS/TLS terminated per server with SDS credentials and their own RDS; routes
// from the VirtualServices bound to the Gateway.
import type { IstioConfig, ProxyInfo } from '../../types.js';
import { hostMatches } from '../config-index.js';
import type { PushContext } from '../push-context.js';
import { ANY } from '../protos.js';
import type { Msg } from './common.js';
import { hcm, isHttp, rds, socket, tcpProxy } from './listeners.js';
import { virtualServiceRoutes } from './routes.js';
import { list, obj, stringList } from '../../validation/core.js';

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
    for (const s of list(gw.spec.servers).map(obj)) {
      const port = (s.port ?? {}) as { number?: number; protocol?: string; name?: string };
      if (typeof port.number !== 'number') continue;
      out.push({
        gateway: gw,
        port: port.number,
        portName: String(port.name ?? ''),
        protocol: String(port.protocol ?? 'HTTP').toUpperCase(),
        hosts: stringList(s.hosts).map((h) => (h.includes('/') ? h.split('/')[1]! : h)),
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

export function gatewayListeners(ctx: PushContext, proxy: ProxyInfo): Msg[] {
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

export function gatewayRoute(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
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
