// Outbound clusters for a service port and its DestinationRule subsets (istiod's cluster_builder and
// cluster_traffic_policy), in the sidecar flavour and the narrower proxyless-gRPC flavour (grpcgen).
import type { MeshService } from '../../types.js';
import { clusterName, type PushContext, type Subset } from '../push-context.js';
import { ANY } from '../protos.js';
import { ADS_CONFIG, durationOf, istioDuration, type Msg } from './common.js';
import { list, obj, type Obj } from '../../validation/core.js';


const MAX_UINT32 = 4294967295;

/** Top-level, port-level, then subset (and its port-level) policy, each field replacing the one before (istiod's MergeTrafficPolicy). */
export function mergedPolicy(top: Obj | undefined, subset: Obj | undefined, port: number): Obj {
  const portLevel = (p: Obj | undefined): Obj =>
    obj(list(p?.portLevelSettings).map(obj).find((s) => obj(s.port).number === port));
  const merged: Obj = {};
  for (const layer of [obj(top), portLevel(top), obj(subset), portLevel(subset)]) {
    for (const f of ['loadBalancer', 'connectionPool', 'outlierDetection', 'tls']) if (layer[f] !== undefined) merged[f] = layer[f];
  }
  return merged;
}

const SDS_CONFIG = {
  api_config_source: { api_type: 'GRPC', set_node_on_first_message_only: true, transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }] },
  initial_fetch_timeout: { seconds: 0 },
  resource_api_version: 'V3',
};

/** ISTIO_MUTUAL for Envoy: certificates from the agent's SDS (`default`, `ROOTCA`), Istio's ALPN and SNI. */
export function istioMutualSidecar(sni: string, sans: string[]): Msg {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': ANY.upstreamTls,
      sni,
      common_tls_context: {
        alpn_protocols: ['istio-peer-exchange', 'istio'],
        tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: SDS_CONFIG }],
        combined_validation_context: {
          default_validation_context: { match_subject_alt_names: sans.map((exact) => ({ exact })) },
          validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: SDS_CONFIG },
        },
      },
    },
  };
}

/**
 * gRPC's TLS context: certificates from the bootstrap's certificate provider `default` (grpcgen sends both
 * the current and the deprecated fields); `sans` empty accepts any peer the root signed.
 */
export function certificateProviderTls(sans: string[]): Msg {
  const instance = (certificate_name: string): Msg => ({ instance_name: 'default', certificate_name });
  return {
    tls_certificate_provider_instance: instance('default'),
    tls_certificate_certificate_provider_instance: instance('default'),
    combined_validation_context: {
      default_validation_context: { ...(sans.length ? { match_subject_alt_names: sans.map((exact) => ({ exact })) } : {}), ca_certificate_provider_instance: instance('ROOTCA') },
      validation_context_certificate_provider_instance: instance('ROOTCA'),
    },
  };
}

/** ISTIO_MUTUAL for gRPC clients (grpcgen). */
function istioMutualProxyless(sans: string[]): Msg {
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': ANY.upstreamTls, common_tls_context: certificateProviderTls(sans) } };
}

function simpleTls(tls: Obj, host: string): Msg {
  const ctx: Msg = { sni: typeof tls.sni === 'string' ? tls.sni : host, common_tls_context: {} };
  const common = ctx.common_tls_context as Msg;
  if (typeof tls.credentialName === 'string') {
    common.validation_context_sds_secret_config = { name: `kubernetes://${tls.credentialName}-cacert`, sds_config: { ads: {}, resource_api_version: 'V3' } };
    if (tls.mode === 'MUTUAL') common.tls_certificate_sds_secret_configs = [{ name: `kubernetes://${tls.credentialName}`, sds_config: { ads: {}, resource_api_version: 'V3' } }];
  } else {
    if (typeof tls.caCertificates === 'string') common.validation_context = { trusted_ca: { filename: tls.caCertificates } };
    if (tls.mode === 'MUTUAL' && typeof tls.clientCertificate === 'string' && typeof tls.privateKey === 'string')
      common.tls_certificates = [{ certificate_chain: { filename: tls.clientCertificate }, private_key: { filename: tls.privateKey } }];
  }
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': ANY.upstreamTls, ...ctx } };
}

const LB: Record<string, string> = { ROUND_ROBIN: 'ROUND_ROBIN', LEAST_CONN: 'LEAST_REQUEST', LEAST_REQUEST: 'LEAST_REQUEST', RANDOM: 'RANDOM' };

function applyLoadBalancer(cluster: Msg, lb: Obj, proxyless: boolean): void {
  if (lb.consistentHash) {
    const ch = obj(lb.consistentHash);
    if (ch.maglev && !proxyless) cluster.lb_policy = 'MAGLEV';
    else {
      cluster.lb_policy = 'RING_HASH';
      cluster.ring_hash_lb_config = { minimum_ring_size: typeof obj(ch.ringHash).minimumRingSize === 'number' ? obj(ch.ringHash).minimumRingSize : typeof ch.minimumRingSize === 'number' ? ch.minimumRingSize : 1024 };
    }
    return;
  }
  const simple = typeof lb.simple === 'string' ? lb.simple : undefined;
  if (proxyless) {
    // grpcgen: ROUND_ROBIN is gRPC's default, so only LEAST_REQUEST is spelled out.
    if (simple === 'LEAST_REQUEST' || simple === 'LEAST_CONN') cluster.lb_policy = 'LEAST_REQUEST';
    return;
  }
  if (simple === 'PASSTHROUGH') {
    cluster.type = 'ORIGINAL_DST';
    cluster.lb_policy = 'CLUSTER_PROVIDED';
    delete cluster.eds_cluster_config;
    return;
  }
  cluster.lb_policy = (simple && LB[simple]) ?? 'LEAST_REQUEST';
}

function applyConnectionPool(cluster: Msg, pool: Obj, proxyless: boolean): void {
  const http = obj(pool.http);
  const tcp = obj(pool.tcp);
  if (proxyless) {
    if (typeof http.http2MaxRequests === 'number') cluster.circuit_breakers = { thresholds: [{ max_requests: http.http2MaxRequests }] };
    return;
  }
  const n = (v: unknown): number => (typeof v === 'number' && v > 0 ? v : MAX_UINT32);
  cluster.circuit_breakers = {
    thresholds: [{
      max_connections: n(tcp.maxConnections),
      max_pending_requests: n(http.http1MaxPendingRequests),
      max_requests: n(http.http2MaxRequests),
      max_retries: n(http.maxRetries),
      track_remaining: true,
    }],
  };
  const connect = istioDuration(tcp.connectTimeout);
  if (connect) cluster.connect_timeout = connect;
  if (typeof http.maxRequestsPerConnection === 'number' && http.maxRequestsPerConnection > 0) cluster.max_requests_per_connection = http.maxRequestsPerConnection;
}

function applyOutlierDetection(cluster: Msg, od: Obj): void {
  const consecutive = typeof od.consecutive5xxErrors === 'number' ? od.consecutive5xxErrors : typeof od.consecutiveErrors === 'number' ? od.consecutiveErrors : undefined;
  const out: Msg = { enforcing_success_rate: 0 };
  if (consecutive !== undefined) {
    out.consecutive_5xx = consecutive;
    out.enforcing_consecutive_5xx = consecutive > 0 ? 100 : 0;
  }
  if (typeof od.consecutiveGatewayErrors === 'number') {
    out.consecutive_gateway_failure = od.consecutiveGatewayErrors;
    out.enforcing_consecutive_gateway_failure = od.consecutiveGatewayErrors > 0 ? 100 : 0;
  }
  const interval = istioDuration(od.interval);
  if (interval) out.interval = interval;
  const eject = istioDuration(od.baseEjectionTime);
  if (eject) out.base_ejection_time = eject;
  if (typeof od.maxEjectionPercent === 'number') out.max_ejection_percent = od.maxEjectionPercent;
  cluster.outlier_detection = out;
}

export interface ClusterOptions {
  proxyless: boolean;
  proxyNamespace: string;
}

/** The cluster `outbound|port|subset|host`; undefined when the subset is not defined. */
export function buildOutboundCluster(ctx: PushContext, service: MeshService, port: number, subsetName: string, opts: ClusterOptions): Msg | undefined {
  const subsets = ctx.subsets(service, opts.proxyNamespace);
  const subset: Subset | undefined = subsetName ? subsets.find((s) => s.name === subsetName) : undefined;
  if (subsetName && !subset) return undefined;
  const name = clusterName(port, subsetName, service.hostname);
  const cluster: Msg = { name, type: 'EDS', eds_cluster_config: { service_name: name, eds_config: opts.proxyless ? { ads: {}, resource_api_version: 'V3' } : ADS_CONFIG } };
  if (!opts.proxyless) {
    cluster.connect_timeout = durationOf(ctx.mesh.connectTimeoutNs);
    cluster.common_lb_config = {};
  }
  if (service.resolution === 'DNS') {
    // DNS-resolved hosts carry their endpoints inline; gRPC resolves one name at a time.
    delete cluster.eds_cluster_config;
    cluster.type = opts.proxyless ? 'LOGICAL_DNS' : 'STRICT_DNS';
    cluster.load_assignment = inlineAssignment(ctx, service, port, name);
  } else if (service.resolution === 'PASSTHROUGH' && !opts.proxyless) {
    delete cluster.eds_cluster_config;
    cluster.type = 'ORIGINAL_DST';
    cluster.lb_policy = 'CLUSTER_PROVIDED';
  }
  const dr = ctx.config.destinationRuleFor(service, opts.proxyNamespace);
  const policy = mergedPolicy(obj(dr?.spec.trafficPolicy), subset?.trafficPolicy, port);
  if (cluster.type === 'EDS' || cluster.type === 'STRICT_DNS' || cluster.type === 'LOGICAL_DNS') applyLoadBalancer(cluster, obj(policy.loadBalancer), opts.proxyless);
  applyConnectionPool(cluster, obj(policy.connectionPool), opts.proxyless);
  if (policy.outlierDetection && !opts.proxyless) applyOutlierDetection(cluster, obj(policy.outlierDetection));
  const tls = obj(policy.tls);
  const sans = ctx.serviceAccounts(service, port);
  const sni = `outbound_.${port}_.${subsetName}_.${service.hostname}`;
  if (tls.mode === 'ISTIO_MUTUAL') cluster.transport_socket = opts.proxyless ? istioMutualProxyless(sans) : istioMutualSidecar(sni, sans);
  else if ((tls.mode === 'SIMPLE' || tls.mode === 'MUTUAL') && !opts.proxyless) cluster.transport_socket = simpleTls(tls, service.hostname);
  else if (tls.mode === undefined && !opts.proxyless && !service.external) {
    // Auto mTLS: speak ISTIO_MUTUAL to endpoints that run a sidecar, plain text to the rest.
    cluster.transport_socket_matches = [
      { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport_socket: istioMutualSidecar(sni, sans) },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': ANY.rawBuffer } } },
    ];
  }
  return cluster;
}

/** Endpoints written into a DNS cluster (socket addresses are host names Envoy resolves). */
function inlineAssignment(ctx: PushContext, service: MeshService, port: number, name: string): Msg {
  return {
    cluster_name: name,
    endpoints: [{ locality: {}, lb_endpoints: ctx.endpoints(service, port).map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } })) }],
  };
}

/** The default cluster plus one per DestinationRule subset, for every port of a service. */
export function serviceClusters(ctx: PushContext, service: MeshService, opts: ClusterOptions): Msg[] {
  const out: Msg[] = [];
  const subsets = ctx.subsets(service, opts.proxyNamespace);
  for (const p of service.ports) {
    for (const s of ['', ...subsets.map((x) => x.name)]) {
      const c = buildOutboundCluster(ctx, service, p.port, s, opts);
      if (c) out.push(c);
    }
  }
  return out;
}
