// Istio config to Envoy resources: which VirtualService/DestinationRule/Sidecar applies, the route and
// cluster shapes for Envoy sidecars and proxyless gRPC, sidecar and gateway listeners. Every generated
// resource must also encode with the Envoy protos.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultMeshConfig } from '../../src/config/mesh.js';
import { ObjectStore, type KubeObject } from '../../src/kube/store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import type { ProxyInfo } from '../../src/types.js';
import { ResourceGenerator } from '../../src/xds/generator.js';
import { authorizeSecretNames, type SecretAccessDecision } from '../../src/xds/gen/secrets.js';
import { parseProxy } from '../../src/xds/proxy.js';
import { TYPE } from '../../src/xds/protos.js';
import { buildPushContext } from '../../src/xds/updates.js';
import { toStruct } from '../../src/xds/gen/common.js';
import { service, workloadObjects } from '../helpers/mesh-objects.js';

const ECHO = 'echo.default.svc.cluster.local';

function generator(objects: object[], mesh = defaultMeshConfig()): ResourceGenerator {
  const store = new ObjectStore();
  store.replaceSource('t', objects as KubeObject[]);
  const errors: string[] = [];
  const g = new ResourceGenerator(buildPushContext(store, { domainSuffix: 'cluster.local', mesh: () => mesh }, createLogger('silent')), (e) => errors.push(`${e.name}: ${e.error}`));
  const generate = g.generate.bind(g);
  // Any resource that fails to encode is a generator bug.
  g.generate = (...args) => {
    const out = generate(...args);
    assert.deepEqual(errors, []);
    return out;
  };
  return g;
}

const proxy = (id: string, meta: Record<string, unknown> = {}): ProxyInfo => parseProxy({ id, metadata: toStruct(meta) as never });
const grpcClient = proxy('sidecar~10.0.0.1~c.default~default.svc.cluster.local', { GENERATOR: 'grpc' });
const envoy = (ns = 'default', labels: Record<string, string> = {}, ip = '10.0.0.1'): ProxyInfo => proxy(`sidecar~${ip}~c.${ns}~${ns}.svc.cluster.local`, { NAMESPACE: ns, LABELS: labels });

const echo = (): object[] => [
  service('echo', 'default', 7070, { app: 'echo' }),
  ...workloadObjects('echo', 'default', { name: 'echo-v1', labels: { app: 'echo', version: 'v1' }, port: 7070, address: '10.1.0.1' }),
  ...workloadObjects('echo', 'default', { name: 'echo-v2', labels: { app: 'echo', version: 'v2' }, port: 7070, address: '10.1.0.2' }),
];
const istio = (kind: string, name: string, namespace: string, spec: object, creationTimestamp = '2024-01-01T00:00:00Z'): object => ({
  apiVersion: 'networking.istio.io/v1', kind, metadata: { name, namespace, creationTimestamp }, spec,
});
const obj = (g: ResourceGenerator, p: ProxyInfo, type: string, names?: string[]): Array<Record<string, any>> => g.generate(p, type, names).map((r) => r.object as Record<string, any>);
/** The echo virtual host's routes: RDS `outbound|7070||<fqdn>` for gRPC, `7070` for Envoy. */
const routesOf = (g: ResourceGenerator, p: ProxyInfo = grpcClient): Array<Record<string, any>> => obj(g, p, TYPE.route, [p.proxyless ? `outbound|7070||${ECHO}` : '7070'])[0]!.virtual_hosts[0].routes;

describe('VirtualService to routes', () => {
  it('translates matches, weights, retries, timeouts, faults, rewrites, mirrors and header operations', () => {
    const vs = istio('VirtualService', 'echo', 'default', {
      hosts: ['echo'],
      http: [
        { name: 'r1', match: [{ name: 'm', uri: { prefix: '/a' }, ignoreUriCase: true, headers: { 'x-v': { exact: 'v2' }, 'x-any': {} }, withoutHeaders: { 'x-no': { regex: 'n.*' } }, queryParams: { q: { exact: '1' } } }], route: [{ destination: { host: 'echo', subset: 'v2' } }], retries: { attempts: 3, retryOn: 'unavailable,503', perTryTimeout: '2s' }, timeout: '1.5s', rewrite: { uri: '/b', authority: 'other' }, headers: { request: { set: { a: '1' }, add: { b: '2' }, remove: ['c'] } } },
        { match: [{ uri: { exact: '/x' } }, { uri: { regex: '^/y.*' } }], route: [{ destination: { host: 'echo', subset: 'v1' }, weight: 75 }, { destination: { host: 'echo', subset: 'v2' }, weight: 25 }, { destination: { host: 'echo' }, weight: 0 }], retries: { attempts: 0 }, mirror: { host: 'echo', subset: 'v2' }, mirrorPercentage: { value: 12.5 } },
        { fault: { delay: { fixedDelay: '5s', percentage: { value: 0.1 } }, abort: { httpStatus: 503, percentage: { value: 50 } } }, route: [{ destination: { host: 'echo' } }] },
        { match: [{ port: 9999 }], route: [{ destination: { host: 'echo' } }] },
      ],
    });
    const g = generator([...echo(), vs]);
    const routes = routesOf(g, envoy());
    assert.equal(routes.length, 4, 'the port-9999-only route is left out of the 7070 listener');
    const [r1, rx, ry, rf] = routes as [Record<string, any>, Record<string, any>, Record<string, any>, Record<string, any>];
    assert.equal(r1.name, 'r1.m');
    assert.deepEqual(r1.match, {
      prefix: '/a', case_sensitive: false,
      headers: [{ name: 'x-v', string_match: { exact: 'v2' }, invert_match: false }, { name: 'x-any', present_match: true, invert_match: false }, { name: 'x-no', string_match: { safe_regex: { regex: 'n.*' } }, invert_match: true }],
      query_parameters: [{ name: 'q', string_match: { exact: '1' } }],
    });
    assert.equal(r1.route.cluster, `outbound|7070|v2|${ECHO}`);
    assert.equal(r1.route.retry_policy.retry_on, 'unavailable,retriable-status-codes');
    assert.deepEqual(r1.route.retry_policy.retriable_status_codes, [503]);
    assert.equal(r1.route.retry_policy.num_retries, 3);
    assert.deepEqual(r1.route.retry_policy.per_try_timeout, { seconds: 2, nanos: 0 });
    assert.deepEqual(r1.route.timeout, { seconds: 1, nanos: 500_000_000 });
    assert.equal(r1.route.prefix_rewrite, '/b');
    assert.equal(r1.route.host_rewrite_literal, 'other');
    assert.deepEqual(r1.request_headers_to_remove, ['c']);
    assert.equal(r1.request_headers_to_add.length, 2);
    assert.deepEqual(rx.match, { path: '/x' });
    assert.deepEqual(ry.match, { safe_regex: { regex: '^/y.*' } });
    assert.deepEqual(rx.route.weighted_clusters.clusters, [{ name: `outbound|7070|v1|${ECHO}`, weight: 75 }, { name: `outbound|7070|v2|${ECHO}`, weight: 25 }]);
    assert.equal(rx.route.retry_policy, undefined, 'attempts 0 turns retries off');
    assert.deepEqual(rx.route.request_mirror_policies, [{ cluster: `outbound|7070|v2|${ECHO}`, runtime_fraction: { default_value: { numerator: 125000, denominator: 'MILLION' } }, trace_sampled: false }]);
    const fault = rf.typed_per_filter_config['envoy.filters.http.fault'];
    assert.deepEqual(fault.delay, { fixed_delay: { seconds: 5, nanos: 0 }, percentage: { numerator: 1000, denominator: 'MILLION' } });
    assert.deepEqual(fault.abort, { http_status: 503, percentage: { numerator: 500000, denominator: 'MILLION' } });
    assert.equal(rf.route.retry_policy.retry_on, 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes', 'the mesh default retry policy');
  });

  it('carries timeouts in max_stream_duration for proxyless gRPC and in route.timeout for Envoy', () => {
    const g = generator([...echo(), istio('VirtualService', 'echo', 'default', { hosts: ['echo'], http: [{ timeout: '100ms', route: [{ destination: { host: 'echo' } }] }] })]);
    const grpcRoute = routesOf(g)[0]!.route;
    assert.deepEqual(grpcRoute.max_stream_duration, { max_stream_duration: { seconds: 0, nanos: 100_000_000 } });
    assert.equal(grpcRoute.timeout, undefined);
    const envoyRoute = routesOf(g, envoy())[0]!.route;
    assert.deepEqual(envoyRoute.timeout, { seconds: 0, nanos: 100_000_000 });
  });

  it('emits redirects and direct responses as istiod does', () => {
    const g = generator([...echo(), istio('VirtualService', 'echo', 'default', { hosts: ['echo'], http: [{ match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new', redirectCode: 308 } }, { directResponse: { status: 418, body: { string: 'teapot' } } }] })]);
    const [redirect, direct] = routesOf(g, envoy()) as [Record<string, any>, Record<string, any>];
    assert.deepEqual(redirect.redirect, { path_redirect: '/new', response_code: 'PERMANENT_REDIRECT' });
    assert.deepEqual(direct.direct_response, { status: 418, body: { inline_string: 'teapot' } });
  });

  it('picks the most specific, then the oldest VirtualService; honours exportTo and gateway binding', () => {
    const older = istio('VirtualService', 'a-wild', 'default', { hosts: ['*.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'echo', subset: 'wild' } }] }] }, '2020-01-01T00:00:00Z');
    const exact = istio('VirtualService', 'b-exact', 'default', { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo', subset: 'exact' } }] }] }, '2023-01-01T00:00:00Z');
    const newer = istio('VirtualService', 'c-exact', 'default', { hosts: ['echo.default.svc.cluster.local'], http: [{ route: [{ destination: { host: 'echo', subset: 'newer' } }] }] }, '2024-01-01T00:00:00Z');
    const gatewayOnly = istio('VirtualService', 'd-gw', 'default', { hosts: ['echo'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'echo', subset: 'gw' } }] }] }, '2019-01-01T00:00:00Z');
    const g = generator([...echo(), older, exact, newer, gatewayOnly]);
    assert.equal(routesOf(g)[0]!.route.cluster, `outbound|7070|exact|${ECHO}`);
    const hidden = istio('VirtualService', 'e-private', 'other', { hosts: [ECHO], exportTo: ['.'], http: [{ route: [{ destination: { host: ECHO, subset: 'private' } }] }] }, '2000-01-01T00:00:00Z');
    assert.equal(routesOf(generator([...echo(), hidden]))[0]!.route.cluster, `outbound|7070||${ECHO}`, 'not exported to default: the default route');
  });
});

describe('DestinationRule to clusters', () => {
  const dr = (spec: object, ns = 'default', name = 'echo'): object => istio('DestinationRule', name, ns, { host: 'echo.default.svc.cluster.local', ...spec });

  it('builds subset clusters whose EDS holds only the matching endpoints', () => {
    const g = generator([...echo(), dr({ subsets: [{ name: 'v2', labels: { version: 'v2' } }, { name: 'none', labels: { version: 'v9' } }] })]);
    const names = obj(g, envoy(), TYPE.cluster).map((c) => c.name);
    assert.ok(names.includes(`outbound|7070|v2|${ECHO}`) && names.includes(`outbound|7070|none|${ECHO}`));
    const eds = obj(g, grpcClient, TYPE.endpoint, [`outbound|7070|v2|${ECHO}`, `outbound|7070||${ECHO}`, `outbound|7070|none|${ECHO}`, `outbound|7070|missing|${ECHO}`]);
    const addrs = (cla: Record<string, any>): string[] => cla.endpoints.flatMap((l: Record<string, any>) => l.lb_endpoints.map((e: Record<string, any>) => e.endpoint.address.socket_address.address));
    assert.deepEqual(addrs(eds[0]!), ['10.1.0.2']);
    assert.deepEqual(addrs(eds[1]!).sort(), ['10.1.0.1', '10.1.0.2']);
    assert.deepEqual(addrs(eds[2]!), []);
    assert.deepEqual(addrs(eds[3]!), [], 'an unknown subset selects nothing');
    assert.equal(eds[1]!.endpoints[0].load_balancing_weight, 2, 'localities carry a weight (gRPC skips those without)');
  });

  it('merges subset policy over the top level for load balancing, pools, outlier detection and TLS', () => {
    const g = generator([...echo(), dr({
      trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: { tcp: { maxConnections: 10, connectTimeout: '3s' }, http: { http2MaxRequests: 100, maxRetries: 4 } }, outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 }, tls: { mode: 'ISTIO_MUTUAL' } },
      subsets: [{ name: 'v2', labels: { version: 'v2' }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } }],
    })]);
    const clusters = obj(g, envoy(), TYPE.cluster);
    const def = clusters.find((c) => c.name === `outbound|7070||${ECHO}`)!;
    assert.equal(def.lb_policy, 'ROUND_ROBIN');
    assert.deepEqual(def.circuit_breakers.thresholds[0], { max_connections: 10, max_pending_requests: 4294967295, max_requests: 100, max_retries: 4, track_remaining: true });
    assert.deepEqual(def.connect_timeout, { seconds: 3, nanos: 0 });
    assert.equal(def.outlier_detection.consecutive_5xx, 5);
    assert.equal(def.outlier_detection.max_ejection_percent, 50);
    const tls = def.transport_socket.typed_config;
    assert.equal(tls.sni, `outbound_.7070_._.${ECHO}`);
    assert.deepEqual(tls.common_tls_context.alpn_protocols, ['istio-peer-exchange', 'istio']);
    assert.deepEqual(tls.common_tls_context.combined_validation_context.default_validation_context.match_subject_alt_names, [{ exact: 'spiffe://cluster.local/ns/default/sa/echo-v1' }, { exact: 'spiffe://cluster.local/ns/default/sa/echo-v2' }]);
    const v2 = clusters.find((c) => c.name === `outbound|7070|v2|${ECHO}`)!;
    assert.equal(v2.lb_policy, 'RING_HASH');
    const hash = routesOf(g, envoy())[0]!.route.hash_policy;
    assert.equal(hash, undefined, 'the default route goes to the default cluster, whose policy has no consistent hash');
  });

  it('narrows clusters for proxyless gRPC: no LB for round robin, only max_requests, TLS from certificate providers', () => {
    const g = generator([...echo(), dr({ trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' }, connectionPool: { http: { http2MaxRequests: 7 } }, outlierDetection: { consecutive5xxErrors: 5 }, tls: { mode: 'ISTIO_MUTUAL' } } })]);
    const c = obj(g, grpcClient, TYPE.cluster, [`outbound|7070||${ECHO}`])[0]!;
    assert.equal(c.lb_policy, undefined);
    assert.deepEqual(c.circuit_breakers, { thresholds: [{ max_requests: 7 }] });
    assert.equal(c.outlier_detection, undefined);
    assert.equal(c.connect_timeout, undefined);
    assert.deepEqual(c.transport_socket.typed_config.common_tls_context.tls_certificate_provider_instance, { instance_name: 'default', certificate_name: 'default' });
  });

  it('prefers the proxy namespace, then the service namespace, then the root namespace', () => {
    const inRoot = dr({ trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } }, 'istio-system', 'root');
    const inSvc = dr({ trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } }, 'default', 'svc');
    const inClient = dr({ trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } }, 'client', 'client');
    const lb = (objects: object[], p: ProxyInfo): string => obj(generator([...echo(), ...objects]), p, TYPE.cluster).find((c) => c.name === `outbound|7070||${ECHO}`)!.lb_policy;
    assert.equal(lb([inRoot], envoy('client')), 'RANDOM');
    assert.equal(lb([inRoot, inSvc], envoy('client')), 'ROUND_ROBIN');
    assert.equal(lb([inRoot, inSvc, inClient], envoy('client')), 'LEAST_REQUEST');
    assert.equal(lb([], envoy('client')), 'LEAST_REQUEST', "Envoy's default is istiod's LEAST_REQUEST");
  });

  it('uses auto mTLS for Envoy without a DestinationRule: ISTIO_MUTUAL to sidecar endpoints, plain text to the rest', () => {
    const c = obj(generator(echo()), envoy(), TYPE.cluster).find((x) => x.name === `outbound|7070||${ECHO}`)!;
    assert.deepEqual(c.transport_socket_matches.map((m: Record<string, any>) => m.name), ['tlsMode-istio', 'tlsMode-disabled']);
  });
});

describe('Envoy sidecar and gateway listeners', () => {
  it('builds virtualOutbound, virtualInbound with the proxy’s own ports, and per-port outbound listeners', () => {
    const objects = [...echo(), service('db', 'default', 5432, { app: 'db' }, 'tcp')];
    const g = generator(objects);
    const server = envoy('default', { app: 'echo' }, '10.1.0.1');
    const listeners = obj(g, server, TYPE.listener);
    assert.deepEqual(listeners.map((l) => l.name), ['virtualOutbound', 'virtualInbound', '0.0.0.0_7070', '10.96.0.10_5432']);
    const inbound = listeners[1]!;
    assert.equal(inbound.address.socket_address.port_value, 15006);
    assert.deepEqual(inbound.filter_chains.map((c: Record<string, any>) => c.name), ['0.0.0.0_7070', 'virtualInbound-catchall-tcp']);
    assert.equal(listeners[0]!.address.socket_address.port_value, 15001);
    assert.equal(listeners[2]!.filter_chains[0].filters[0].typed_config.rds.route_config_name, '7070');
    const clusters = obj(g, server, TYPE.cluster).map((c) => c.name);
    assert.ok(clusters.includes('inbound|7070||') && clusters.includes('PassthroughCluster') && clusters.includes('outbound|5432||db.default.svc.cluster.local'));
    const rds = obj(g, server, TYPE.route, ['7070'])[0]!;
    assert.deepEqual(rds.virtual_hosts.map((v: Record<string, any>) => v.name), [`${ECHO}:7070`, 'allow_any']);
    assert.ok(rds.virtual_hosts[0].domains.includes('echo:7070') && rds.virtual_hosts[0].domains.includes('10.96.0.10'));
  });

  it('scopes what a sidecar sees with a Sidecar resource and blocks the rest under REGISTRY_ONLY', () => {
    const objects = [...echo(), service('other', 'other', 8080, { app: 'o' }, 'http'), istio('Sidecar', 'default', 'default', { egress: [{ hosts: ['./*'] }] })];
    const mesh = { ...defaultMeshConfig(), outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } };
    const g = generator(objects, mesh);
    const clusters = obj(g, envoy(), TYPE.cluster).map((c) => c.name);
    assert.ok(clusters.includes(`outbound|7070||${ECHO}`));
    assert.ok(!clusters.some((c) => c.includes('other.other')));
    assert.ok(obj(generator(objects), envoy('other'), TYPE.cluster).some((c) => c.name === 'outbound|8080||other.other.svc.cluster.local'), 'the Sidecar applies to its namespace only');
    const rds = obj(g, envoy(), TYPE.route, ['7070'])[0]!;
    assert.equal(rds.virtual_hosts.at(-1).name, 'block_all');
  });

  it('gives a gateway one listener per server port and routes from VirtualServices bound to it', () => {
    const gw = istio('Gateway', 'ingress', 'default', { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*.example.com'] }] });
    const vs = istio('VirtualService', 'site', 'default', { hosts: ['www.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'echo', port: { number: 7070 } } }] }] });
    const g = generator([...echo(), gw, vs]);
    const gateway = proxy('router~10.0.0.50~gw.default~default.svc.cluster.local', { NAMESPACE: 'default', LABELS: { istio: 'ingressgateway' } });
    const listeners = obj(g, gateway, TYPE.listener);
    assert.deepEqual(listeners.map((l) => l.name), ['0.0.0.0_80']);
    assert.equal(listeners[0]!.filter_chains[0].filters[0].typed_config.rds.route_config_name, 'http.80');
    const rds = obj(g, gateway, TYPE.route, ['http.80'])[0]!;
    assert.deepEqual(rds.virtual_hosts.map((v: Record<string, any>) => v.domains), [['www.example.com', 'www.example.com:*']]);
    assert.equal(rds.virtual_hosts[0].routes[0].route.cluster, `outbound|7070||${ECHO}`);
    assert.deepEqual(obj(g, envoy(), TYPE.route, ['7070'])[0]!.virtual_hosts[0].routes[0].name, 'default', 'sidecars ignore the gateway-bound VirtualService');
  });
});

describe('proxyless gRPC listeners', () => {
  it('names client listeners as requested and server listeners by the inbound template', () => {
    const g = generator(echo());
    const [client, short, server] = obj(g, grpcClient, TYPE.listener, [`${ECHO}:7070`, 'echo.default:7070', 'xds.istio.io/grpc/lds/inbound/127.0.0.1:9000']) as [Record<string, any>, Record<string, any>, Record<string, any>];
    assert.equal(client.name, `${ECHO}:7070`);
    assert.equal(client.api_listener.api_listener.rds.route_config_name, `outbound|7070||${ECHO}`);
    assert.deepEqual(client.api_listener.api_listener.http_filters.map((f: Record<string, any>) => f.name), ['envoy.filters.http.fault', 'envoy.filters.http.router']);
    assert.equal(short.name, 'echo.default:7070');
    assert.deepEqual(server.address, { socket_address: { address: '127.0.0.1', port_value: 9000 } });
    assert.equal(server.listener_filters, undefined, 'gRPC servers reject listener filters');
    assert.equal(obj(g, grpcClient, TYPE.listener, ['echo:9999']).length, 0, 'an unknown port generates nothing');
  });
});

describe('gateway TLS and SDS', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const tlsSecret = (name: string, namespace: string, withCa: boolean): object => ({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace },
    data: { 'tls.crt': b64('CERT PEM'), 'tls.key': b64('KEY PEM'), ...(withCa ? { 'ca.crt': b64('CA PEM') } : {}) },
  });
  const gw = istio('Gateway', 'ingress', 'default', {
    selector: { istio: 'ingressgateway' },
    servers: [
      { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['www.example.com'], tls: { mode: 'SIMPLE', credentialName: 'www-cred' } },
      { port: { number: 443, name: 'https-api', protocol: 'HTTPS' }, hosts: ['api.example.com'], tls: { mode: 'MUTUAL', credentialName: 'api-cred' } },
    ],
  });
  const vs = istio('VirtualService', 'site', 'default', { hosts: ['www.example.com', 'api.example.com'], gateways: ['ingress'], http: [{ route: [{ destination: { host: 'echo', port: { number: 7070 } } }] }] });
  const gateway = proxy('router~10.0.0.50~gw.default~default.svc.cluster.local', { NAMESPACE: 'default', LABELS: { istio: 'ingressgateway' } });

  it('terminates TLS per server name with SDS credentials and routes each server by its own RDS', () => {
    const g = generator([...echo(), gw, vs, tlsSecret('www-cred', 'default', false), tlsSecret('api-cred', 'default', true)]);
    const [listener] = obj(g, gateway, TYPE.listener) as [Record<string, any>];
    assert.equal(listener.name, '0.0.0.0_443');
    assert.equal(listener.listener_filters[0].name, 'envoy.filters.listener.tls_inspector');
    const chains = listener.filter_chains as Array<Record<string, any>>;
    assert.deepEqual(chains.map((c) => c.filter_chain_match.server_names), [['www.example.com'], ['api.example.com']]);
    const www = chains[0]!.transport_socket.typed_config.common_tls_context;
    assert.equal(www.tls_certificate_sds_secret_configs[0].name, 'kubernetes://www-cred');
    assert.equal(www.validation_context_sds_secret_config, undefined);
    const api = chains[1]!.transport_socket.typed_config;
    assert.equal(api.require_client_certificate, true);
    assert.equal(api.common_tls_context.validation_context_sds_secret_config.name, 'kubernetes://api-cred-cacert');
    assert.equal(chains[0]!.filters[0].typed_config.rds.route_config_name, 'https.443.https.ingress.default');
    const rds = obj(g, gateway, TYPE.route, ['https.443.https-api.ingress.default'])[0]!;
    assert.deepEqual(rds.virtual_hosts.map((v: Record<string, any>) => v.name), ['api.example.com:443']);
  });

  it('serves kubernetes:// credentials of the verified identity’s own namespace only', () => {
    const g = generator([tlsSecret('www-cred', 'default', true), tlsSecret('other-cred', 'other', true), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'generic', namespace: 'default' }, stringData: { cert: 'C', key: 'K', cacert: 'A' } }]);
    const all = ['kubernetes://www-cred', 'kubernetes://www-cred-cacert', 'kubernetes://default/generic', 'kubernetes://other/other-cred', 'kubernetes://missing'];
    assert.deepEqual(obj(g, gateway, TYPE.secret, all), [], 'a proxy without a verified identity (plain-text port) gets nothing');
    const verified: ProxyInfo = { ...gateway, verifiedIdentity: { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'gw' } };
    // The same node claiming another namespace changes nothing: the verified one counts.
    const claimsOther: ProxyInfo = { ...verified, namespace: 'other' };
    assert.deepEqual(obj(g, claimsOther, TYPE.secret, ['kubernetes://other/other-cred', 'kubernetes://www-cred']).map((s) => s.name), ['kubernetes://www-cred']);
    const secrets = obj(g, verified, TYPE.secret, all);
    assert.deepEqual(secrets.map((s) => s.name), ['kubernetes://www-cred', 'kubernetes://www-cred-cacert', 'kubernetes://default/generic']);
    const pem = (b: unknown): string => Buffer.from((b as { inline_bytes: Uint8Array }).inline_bytes).toString();
    assert.equal(pem(secrets[0]!.tls_certificate.certificate_chain), 'CERT PEM');
    assert.equal(pem(secrets[0]!.tls_certificate.private_key), 'KEY PEM');
    assert.equal(pem(secrets[1]!.validation_context.trusted_ca), 'CA PEM');
    assert.equal(pem(secrets[2]!.tls_certificate.certificate_chain), 'C');
    assert.equal(obj(g, grpcClient, TYPE.secret, ['kubernetes://www-cred']).length, 0, 'proxyless gRPC gets no SDS (certificate files instead)');
    // Output cached for a verified proxy is not handed to an unverified one with the same scope.
    assert.deepEqual(obj(g, gateway, TYPE.secret, all), []);
  });

  it('authorizes names as istiod does: same namespace, CA parts freely, keys after the access review', () => {
    const verified: ProxyInfo = { ...gateway, verifiedIdentity: { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'gw' } };
    const names = ['kubernetes://www-cred', 'kubernetes://www-cred-cacert', 'kubernetes://other/x', 'default', 'ROOTCA'];
    let asked = 0;
    const ask = (d: SecretAccessDecision) => () => (asked++, d);
    assert.deepEqual(authorizeSecretNames(gateway, names, ask({ allowed: true })), { allowed: [], denied: names, reason: 'no verified identity', pending: false });
    assert.equal(asked, 0);
    assert.deepEqual(authorizeSecretNames(verified, names, ask({ allowed: true })), { allowed: ['kubernetes://www-cred', 'kubernetes://www-cred-cacert'], denied: ['kubernetes://other/x'], reason: 'cross namespace secret reference requires ReferenceGrant', pending: false });
    assert.deepEqual(authorizeSecretNames(verified, names, ask({ allowed: false, reason: 'no RBAC' })), { allowed: ['kubernetes://www-cred-cacert'], denied: ['kubernetes://www-cred', 'kubernetes://other/x'], reason: 'no RBAC', pending: false });
    assert.deepEqual(authorizeSecretNames(verified, names, ask(undefined)), { allowed: ['kubernetes://www-cred-cacert'], denied: ['kubernetes://other/x'], reason: 'cross namespace secret reference requires ReferenceGrant', pending: true });
    assert.equal(asked, 3, 'one review per call, and none for CA parts only');
    authorizeSecretNames(verified, ['kubernetes://www-cred-cacert'], ask(undefined));
    assert.equal(asked, 3);
  });
});

describe('PeerAuthentication', () => {
  const pa = (name: string, namespace: string, spec: object): object => ({ apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name, namespace, creationTimestamp: '2024-01-01T00:00:00Z' }, spec });
  const modeOf = (objects: object[], labels: Record<string, string>, port = 7070): string => {
    const store = new ObjectStore();
    store.replaceSource('t', objects as KubeObject[]);
    return buildPushContext(store, { domainSuffix: 'cluster.local', mesh: defaultMeshConfig }, createLogger('silent')).config.mtlsMode('default', labels, port);
  };

  it('takes the workload policy, else the namespace one, else the mesh one; UNSET inherits; ports can differ', () => {
    const mesh = pa('mesh', 'istio-system', { mtls: { mode: 'STRICT' } });
    const ns = pa('ns', 'default', { mtls: { mode: 'PERMISSIVE' } });
    const workload = pa('w', 'default', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'UNSET' }, portLevelMtls: { 7070: { mode: 'DISABLE' } } });
    assert.equal(modeOf([], { app: 'echo' }), 'PERMISSIVE', 'the default');
    assert.equal(modeOf([mesh], { app: 'echo' }), 'STRICT');
    assert.equal(modeOf([mesh, ns], { app: 'echo' }), 'PERMISSIVE');
    assert.equal(modeOf([mesh, ns, workload], { app: 'echo' }), 'DISABLE', 'the port-level mode');
    assert.equal(modeOf([mesh, ns, workload], { app: 'echo' }, 9090), 'PERMISSIVE', 'UNSET inherits from the namespace');
    assert.equal(modeOf([mesh, ns, workload], { app: 'other' }), 'PERMISSIVE', 'the selector does not match');
  });

  it('turns the proxyless server listener into inbound-mtls under STRICT only', () => {
    const name = 'xds.istio.io/grpc/lds/inbound/10.1.0.1:7070';
    const server = proxy('sidecar~10.1.0.1~echo-v1.default~default.svc.cluster.local', { GENERATOR: 'grpc', LABELS: { app: 'echo' } });
    const strict = obj(generator([...echo(), pa('w', 'default', { selector: { matchLabels: { app: 'echo' } }, mtls: { mode: 'STRICT' } })]), server, TYPE.listener, [name])[0]!;
    assert.equal(strict.filter_chains[0].name, 'inbound-mtls');
    assert.equal(strict.filter_chains[0].transport_socket.typed_config.require_client_certificate, true);
    const permissive = obj(generator([...echo(), pa('w', 'default', { mtls: { mode: 'PERMISSIVE' } })]), server, TYPE.listener, [name])[0]!;
    assert.equal(permissive.filter_chains[0].name, 'inbound-plaintext');
    assert.equal(permissive.filter_chains[0].transport_socket, undefined);
  });
});

describe('AuthorizationPolicy', () => {
  const ap = (name: string, namespace: string, spec: object): object => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace, creationTimestamp: '2024-01-01T00:00:00Z' }, spec });
  const listenerName = 'xds.istio.io/grpc/lds/inbound/10.1.0.1:7070';
  const server = proxy('sidecar~10.1.0.1~echo-v1.default~default.svc.cluster.local', { GENERATOR: 'grpc', LABELS: { app: 'echo' } });
  const filters = (objects: object[]): Array<Record<string, any>> => obj(generator([...echo(), ...objects]), server, TYPE.listener, [listenerName])[0]!.filter_chains[0].filters[0].typed_config.http_filters;

  it('translates sources, operations and conditions into RBAC policies, DENY before ALLOW', () => {
    const deny = ap('deny', 'default', { action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['default'], ipBlocks: ['10.0.0.0/8'] } }], when: [{ key: 'request.headers[x-user]', values: ['bad'] }] }] });
    const allow = ap('allow', 'default', { selector: { matchLabels: { app: 'echo' } }, rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/client'] } }], to: [{ operation: { paths: ['/pkg.Svc/*'], methods: ['POST'], notPorts: ['9090'] } }], when: [{ key: 'destination.port', values: ['7070'] }] }] });
    const elsewhere = ap('other', 'other', { action: 'DENY', rules: [{}] });
    const fs = filters([deny, allow, elsewhere]);
    assert.deepEqual(fs.map((f) => f.name), ['envoy.filters.http.rbac.DENY', 'envoy.filters.http.rbac', 'envoy.filters.http.router']);
    const denyPolicy = fs[0]!.typed_config.rules.policies['ns[default]-policy[deny]-rule[0]'];
    assert.deepEqual(denyPolicy.permissions, [{ any: true }]);
    assert.deepEqual(denyPolicy.principals, [{ and_ids: { ids: [
      { not_id: { authenticated: { principal_name: { safe_regex: { regex: '.*/ns/default/.*' } } } } },
      { direct_remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } },
      { header: { name: 'x-user', string_match: { exact: 'bad' } } },
    ] } }]);
    const allowPolicy = fs[1]!.typed_config.rules.policies['ns[default]-policy[allow]-rule[0]'];
    assert.deepEqual(allowPolicy.principals, [{ and_ids: { ids: [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/default/sa/client' } } }] } }]);
    assert.deepEqual(allowPolicy.permissions, [{ and_rules: { rules: [
      { and_rules: { rules: [{ url_path: { path: { prefix: '/pkg.Svc/' } } }, { header: { name: ':method', string_match: { exact: 'POST' } } }, { not_rule: { destination_port: 9090 } }] } },
      { destination_port: 7070 },
    ] } }]);
  });

  it('allows nothing under an ALLOW policy without rules, and adds no filter when no policy applies', () => {
    const none = filters([ap('nothing', 'default', { selector: { matchLabels: { app: 'echo' } }, action: 'ALLOW' })]);
    assert.deepEqual(none[0]!.typed_config.rules, { action: 'ALLOW', policies: {} });
    assert.deepEqual(filters([ap('x', 'default', { selector: { matchLabels: { app: 'other' } }, action: 'DENY', rules: [{}] })]).map((f) => f.name), ['envoy.filters.http.router']);
    const meshWide = filters([ap('mesh', 'istio-system', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] })]);
    assert.equal(meshWide[0]!.name, 'envoy.filters.http.rbac.DENY', 'root-namespace policies apply everywhere');
  });
});
