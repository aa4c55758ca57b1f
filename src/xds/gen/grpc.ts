// Proxyless gRPC (node metadata GENERATOR=grpc), after istiod's grpcgen: only the names the client asks
// for, listeners `host:port` with an API listener, route configs named like the default cluster, and
// server listeners `xds.istio.io/grpc/lds/inbound/<ip>:<port>` for xDS-enabled gRPC servers.
import type { MeshService, ProxyInfo } from '../../types.js';
import { clusterName, type PushContext } from '../push-context.js';
import { ANY, TYPE } from '../protos.js';
import { rbacFilters } from './authz.js';
import { buildOutboundCluster, certificateProviderTls } from './clusters.js';
import { FAULT_FILTER, ROUTER_FILTER, type Msg } from './common.js';
import { buildLoadAssignment } from './endpoints.js';
import { serviceVirtualHost } from './routes.js';

export const SERVER_LISTENER_PREFIX = 'xds.istio.io/grpc/lds/inbound/';

/** `host:port` (IPv6 hosts in brackets) split into its parts. */
function splitHostPort(s: string): { host: string; port?: number } {
  const m = /^\[(.*)\]:(\d+)$/.exec(s) ?? /^([^:]*):(\d+)$/.exec(s);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: s.replace(/^\[|\]$/g, '') };
}

/** A short target (`echo`, `echo.ns`) expanded to the service's FQDN (grpcgen's tryFindFQDN). */
function findService(ctx: PushContext, host: string, namespace: string): MeshService | undefined {
  const suffix = ctx.mesh.domainSuffix;
  const parts = host.split('.');
  const candidates = [host];
  if (parts.length === 1) candidates.push(`${host}.${namespace}.svc.${suffix}`);
  if (parts.length === 2) candidates.push(`${host}.svc.${suffix}`);
  if (parts.length === 3 && parts[2] === 'svc') candidates.push(`${host}.${suffix}`);
  for (const c of candidates) {
    const s = ctx.serviceFor(c, namespace);
    if (s) return s;
  }
  return undefined;
}

function outboundListener(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const { host, port } = splitHostPort(name);
  const service = findService(ctx, host, proxy.namespace);
  const p = service && (port === undefined ? service.ports[0] : ctx.port(service, port));
  if (!service || !p) return undefined;
  return {
    name,
    address: { socket_address: { address: service.addresses[0] ?? '0.0.0.0', port_value: p.port } },
    api_listener: {
      api_listener: {
        '@type': ANY.hcm,
        stat_prefix: name,
        rds: { config_source: { ads: {}, resource_api_version: 'V3' }, route_config_name: clusterName(p.port, '', service.hostname) },
        http_filters: [FAULT_FILTER, ROUTER_FILTER],
      },
    },
  };
}

/**
 * The listener an XdsServer waits for before it serves on ip:port. Under a STRICT PeerAuthentication it
 * requires client certificates from the mesh (grpcgen's `inbound-mtls`); PERMISSIVE is plain text, as in
 * istiod, since gRPC's filter-chain matching cannot tell TLS from plain text. AuthorizationPolicies become
 * RBAC filters (gRPC applies them with GRPC_XDS_EXPERIMENTAL_RBAC=true and rejects the listener without).
 */
function inboundListener(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const { host, port } = splitHostPort(name.slice(SERVER_LISTENER_PREFIX.length));
  if (!host || port === undefined) return undefined;
  const labels = Object.keys(proxy.labels).length ? proxy.labels : (ctx.instancesOf({ ...proxy, ip: host }).find((i) => i.endpoint.port === port)?.endpoint.labels ?? {});
  const strict = ctx.config.mtlsMode(proxy.namespace, labels, port) === 'STRICT';
  return {
    name,
    address: { socket_address: { address: host, port_value: port } },
    traffic_direction: 'INBOUND',
    filter_chains: [{
      name: strict ? 'inbound-mtls' : 'inbound-plaintext',
      ...(strict ? { transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: { '@type': ANY.downstreamTls, common_tls_context: certificateProviderTls([]), require_client_certificate: true } } } : {}),
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': ANY.hcm,
          stat_prefix: `inbound|${port}||`,
          route_config: { name: 'inbound', virtual_hosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ match: { prefix: '/' }, decorator: { operation: 'grpc' }, non_forwarding_action: {} }] }] },
          http_filters: [...rbacFilters(ctx, proxy.namespace, labels), ROUTER_FILTER],
        },
      }],
    }],
  };
}

function routeConfig(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const target = ctx.clusterTarget(name, proxy.namespace);
  if (!target) return undefined;
  const { key, service } = target;
  const vh = serviceVirtualHost(ctx, service, key.port, { listenerPort: key.port, proxy, proxyless: true, gateway: 'mesh' });
  return { name, virtual_hosts: [vh] };
}

function cluster(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const target = ctx.clusterTarget(name, proxy.namespace);
  if (!target) return undefined;
  const { key, service } = target;
  return buildOutboundCluster(ctx, service, key.port, key.subset, { proxyless: true, proxyNamespace: proxy.namespace });
}

/** One named resource for a proxyless client; undefined when the name matches nothing (left out of the response). */
export function generateGrpc(ctx: PushContext, proxy: ProxyInfo, typeUrl: string, name: string): Msg | undefined {
  switch (typeUrl) {
    case TYPE.listener:
      return name.startsWith(SERVER_LISTENER_PREFIX) ? inboundListener(ctx, proxy, name) : outboundListener(ctx, proxy, name);
    case TYPE.route:
      return routeConfig(ctx, proxy, name);
    case TYPE.cluster:
      return cluster(ctx, proxy, name);
    case TYPE.endpoint:
      return buildLoadAssignment(ctx, name, proxy.namespace);
    default:
      return undefined;
  }
}
