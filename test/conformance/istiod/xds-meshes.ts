// The meshes of the xDS part: each is the Kubernetes and Istio objects to apply, the pods to create (from
// the Deployments' templates: with no kubelet, the harness stores each pod and sets its IP and readiness
// itself, and the EndpointSlice controller does the rest), and the proxies to connect to both control
// planes. Deployments themselves are not applied (their ReplicaSets would add pods that never get an IP).
// Every mesh also has kube-dns (53 over UDP and TCP, as in every cluster) and an ingress gateway.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseYamlStream } from '../../../src/config/yaml.js';
import { SHARED } from '../inject.js';
import type { ProxySpec } from './xds-nodes.js';

type Obj = Record<string, unknown>;

export interface MeshPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  serviceAccount: string;
  workload: string;
  spec: Obj;
}

export interface Mesh {
  name: string;
  namespaces: string[];
  objects: Obj[];
  pods: MeshPod[];
  proxies: Array<ProxySpec & { name: string }>;
}

export const SAMPLES = join(SHARED, 'istio', 'samples');
const GATEWAY = 'istio-system/istio-ingressgateway-0';

const meta = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
const readYaml = (file: string): Obj[] =>
  parseYamlStream(readFileSync(file, 'utf8'), file).filter((d): d is Obj => typeof d === 'object' && d !== null);

/** Objects get `namespace` unless they name their own; Deployments become pods, the rest is applied. */
function place(docs: Obj[], namespace: string, ips: () => string): { objects: Obj[]; pods: MeshPod[] } {
  const objects: Obj[] = [];
  const pods: MeshPod[] = [];
  for (const d of docs) {
    const ns = String(meta(d).namespace ?? namespace);
    const placed = { ...d, metadata: { ...meta(d), namespace: ns } };
    if (d.kind !== 'Deployment') {
      objects.push(placed);
      continue;
    }
    const template = (((d.spec ?? {}) as Obj).template ?? {}) as Obj;
    const spec = (template.spec ?? {}) as Obj;
    const labels = (meta(template).labels ?? {}) as Record<string, string>;
    const name = String(meta(d).name);
    pods.push({ namespace: ns, name: `${name}-0`, ip: ips(), labels, workload: name, spec,
      serviceAccount: String(spec.serviceAccountName ?? 'default') });
  }
  return { objects, pods };
}

function ipAllocator(subnet: number): () => string {
  let n = 0;
  return () => `10.244.${subnet}.${++n}`;
}

/** kube-dns (TCP and UDP on 53, metrics on 9153) and Istio's ingress gateway, as every mesh has them. */
function clusterBasics(ips: () => string): { objects: Obj[]; pods: MeshPod[] } {
  const dns = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: { selector: { 'k8s-app': 'kube-dns' }, ports: [
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
    ] },
  };
  const gw = {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'istio-ingressgateway', namespace: 'istio-system',
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
    spec: { selector: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, ports: [
      { name: 'status-port', port: 15021, targetPort: 15021 },
      { name: 'http2', port: 80, targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 8443 },
    ] },
  };
  const sa = (name: string, namespace: string): Obj => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  const container = (ports: number[]): Obj => ({ name: 'app', image: 'example', ports: ports.map((p) => ({ containerPort: p })) });
  return {
    objects: [dns, gw, sa('coredns', 'kube-system'), sa('istio-ingressgateway-service-account', 'istio-system')],
    pods: [
      { namespace: 'kube-system', name: 'coredns-0', ip: ips(), labels: { 'k8s-app': 'kube-dns' }, workload: 'coredns',
        serviceAccount: 'coredns', spec: { serviceAccountName: 'coredns', containers: [container([53, 9153])] } },
      { namespace: 'istio-system', name: 'istio-ingressgateway-0', ip: ips(),
        labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' }, workload: 'istio-ingressgateway',
        serviceAccount: 'istio-ingressgateway-service-account',
        spec: { serviceAccountName: 'istio-ingressgateway-service-account', containers: [container([8080, 8443, 15021])] } },
    ],
  };
}

/** The proxy of pod `ns/name`. */
function proxyOf(pods: MeshPod[], id: string, kind: ProxySpec['kind'], listeners?: string[]): ProxySpec & { name: string } {
  const p = pods.find((x) => `${x.namespace}/${x.name}` === id);
  if (!p) throw new Error(`no pod ${id} in the mesh`);
  return {
    name: `${kind} ${p.namespace}/${p.name}`, kind, protocol: kind === 'proxyless' ? 'sotw' : 'delta', ip: p.ip,
    namespace: p.namespace, pod: p.name, workload: p.workload, serviceAccount: p.serviceAccount, labels: p.labels, listeners,
  };
}

function assemble(name: string, parts: Array<{ objects: Obj[]; pods: MeshPod[] }>, pick: (pods: MeshPod[]) => Mesh['proxies']): Mesh {
  const objects = parts.flatMap((p) => p.objects);
  const pods = parts.flatMap((p) => p.pods);
  const builtin = new Set(['default', 'kube-system', 'istio-system']);
  const namespaces = [...new Set([...objects, ...pods.map((p) => ({ metadata: { namespace: p.namespace } }))]
    .map((o) => String(meta(o as Obj).namespace)))].filter((n) => !builtin.has(n)).sort();
  return { name, namespaces, objects, pods, proxies: pick(pods) };
}

/** Bookinfo with its mTLS DestinationRules, the reviews 90/10 VirtualService and its Gateway. */
export function bookinfo(): Mesh {
  const ips = ipAllocator(1);
  const dir = join(SAMPLES, 'samples', 'bookinfo');
  const docs = [
    ...readYaml(join(dir, 'platform', 'kube', 'bookinfo.yaml')),
    ...['bookinfo-gateway.yaml', 'destination-rule-all-mtls.yaml', 'virtual-service-reviews-90-10.yaml']
      .flatMap((f) => readYaml(join(dir, 'networking', f))),
  ];
  const host = (s: string): string => `${s}.bookinfo.svc.cluster.local:9080`;
  return assemble('bookinfo', [clusterBasics(ips), place(docs, 'bookinfo', ips)], (pods) => [
    proxyOf(pods, 'bookinfo/productpage-v1-0', 'sidecar'),
    proxyOf(pods, 'bookinfo/reviews-v2-0', 'sidecar'),
    proxyOf(pods, GATEWAY, 'gateway'),
    proxyOf(pods, 'bookinfo/productpage-v1-0', 'proxyless', [host('reviews'), host('details'), host('ratings')]),
  ]);
}

/** The configs istiod's own xDS tests load (pilot/pkg/xds lds_test.go and others: tests/testdata/config). */
export function istioTestdata(): Mesh {
  const ips = ipAllocator(2);
  const dir = join(SAMPLES, 'tests', 'testdata', 'config');
  const docs = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => readYaml(join(dir, f)));
  const client = (namespace: string): { objects: Obj[]; pods: MeshPod[] } => ({
    objects: [],
    pods: [{ namespace, name: 'client-0', ip: ips(), labels: { app: 'client', version: 'v1' }, workload: 'client',
      serviceAccount: 'default', spec: { containers: [{ name: 'app', image: 'example' }] } }],
  });
  return assemble('istio xds testdata', [clusterBasics(ips), place(docs, 'default', ips), client('testns'), client('seexamples')], (pods) => [
    proxyOf(pods, 'testns/client-0', 'sidecar'),
    proxyOf(pods, 'seexamples/client-0', 'sidecar'),
    proxyOf(pods, GATEWAY, 'gateway'),
  ]);
}

/** Ports of the generated services, by kind: named HTTP, gRPC, TCP, and unnamed (protocol sniffing). */
const PORT_SHAPES: Array<Array<{ name?: string; port: number }>> = [
  [{ name: 'http', port: 8080 }],
  [{ name: 'grpc', port: 9090 }, { name: 'http-metrics', port: 9091 }],
  [{ name: 'tcp-db', port: 5432 }],
  [{ port: 7000 }],
];

/** A mesh of `count` services in three namespaces with every kind of Istio config, the same every run. */
export function generated(count = 54): Mesh {
  const ips = ipAllocator(3);
  const nss = ['gen-a', 'gen-b', 'gen-c'];
  const docs: Obj[] = [];
  const pods: MeshPod[] = [];
  for (let i = 0; i < count; i++) {
    const name = `svc-${String(i).padStart(2, '0')}`;
    const namespace = nss[i % 3]!;
    const ports = PORT_SHAPES[i % 4]!;
    docs.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
    docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, labels: { app: name } },
      spec: { selector: { app: name }, ports: ports.map((p) => ({ ...p, targetPort: p.port + 10000 })) } });
    const versions = i % 2 === 0 ? ['v1', 'v2'] : ['v1'];
    for (const v of versions) {
      pods.push({ namespace, name: `${name}-${v}-0`, ip: ips(), labels: { app: name, version: v }, workload: `${name}-${v}`,
        serviceAccount: name, spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'example',
          ports: ports.map((p) => ({ containerPort: p.port + 10000 })) }] } });
    }
    const host = `${name}.${namespace}.svc.cluster.local`;
    if (i % 2 === 0) docs.push(destinationRule(name, namespace, host, i));
    if (i % 3 === 0 && ports[0]!.name !== 'tcp-db') docs.push(virtualService(name, namespace, host, i, versions));
    if (i % 4 === 2) docs.push(tcpRoute(name, namespace, host, ports[0]!.port));
  }
  docs.push(...policies(), ...serviceEntries(), ...gatewayConfig());
  return assemble(`generated (${count} services)`, [clusterBasics(ips), { objects: docs, pods }], (ps) => [
    proxyOf(ps, 'gen-a/svc-00-v1-0', 'sidecar'),
    proxyOf(ps, 'gen-c/svc-02-v1-0', 'sidecar'),
    proxyOf(ps, 'gen-b/svc-01-v1-0', 'sidecar'),
    proxyOf(ps, GATEWAY, 'gateway'),
    proxyOf(ps, 'gen-b/svc-04-v1-0', 'proxyless', ['svc-00.gen-a.svc.cluster.local:8080', 'svc-01.gen-b.svc.cluster.local:9090',
      'svc-09.gen-a.svc.cluster.local:9090', 'svc-12.gen-a.svc.cluster.local:8080']),
  ]);
}

function destinationRule(name: string, namespace: string, host: string, i: number): Obj {
  const policy: Obj = {};
  if (i % 4 === 0) policy.tls = { mode: 'ISTIO_MUTUAL' };
  if (i % 6 === 0) policy.loadBalancer = { simple: 'LEAST_REQUEST' };
  if (i % 8 === 0) policy.connectionPool = { http: { http1MaxPendingRequests: 100, maxRequestsPerConnection: 10 }, tcp: { maxConnections: 50 } };
  if (i % 10 === 0) policy.outlierDetection = { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s' };
  return { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace },
    spec: { host, trafficPolicy: policy, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } };
}

function virtualService(name: string, namespace: string, host: string, i: number, versions: string[]): Obj {
  const dest = (subset: string, weight?: number): Obj => ({ destination: { host, subset }, ...(weight === undefined ? {} : { weight }) });
  const split = versions.length > 1 ? [dest('v1', 90), dest('v2', 10)] : [dest('v1')];
  const http: Obj[] = [];
  if (i % 9 === 0) http.push({ match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new', scheme: 'https' } });
  if (i % 6 === 0) http.push({ match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [dest('v1')], timeout: '3s',
    retries: { attempts: 2, perTryTimeout: '1s', retryOn: 'gateway-error,connect-failure' } });
  http.push({ route: split, ...(i % 5 === 0 ? { fault: { delay: { percentage: { value: 10 }, fixedDelay: '2s' } } } : {}) });
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace }, spec: { hosts: [host], http } };
}

function tcpRoute(name: string, namespace: string, host: string, port: number): Obj {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `${name}-tcp`, namespace },
    spec: { hosts: [host], tcp: [{ match: [{ port }], route: [{ destination: { host, port: { number: port } } }] }] } };
}

function policies(): Obj[] {
  const kindOf = (kind: string, group: string, name: string, namespace: string, spec: Obj): Obj =>
    ({ apiVersion: `${group}/v1`, kind, metadata: { name, namespace }, spec });
  return [
    kindOf('PeerAuthentication', 'security.istio.io', 'default', 'gen-a', { mtls: { mode: 'STRICT' } }),
    kindOf('PeerAuthentication', 'security.istio.io', 'svc-01', 'gen-b', {
      selector: { matchLabels: { app: 'svc-01' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { 19091: { mode: 'DISABLE' } } }),
    kindOf('AuthorizationPolicy', 'security.istio.io', 'from-gen-b', 'gen-a', {
      action: 'ALLOW', rules: [{ from: [{ source: { namespaces: ['gen-b', 'gen-a'] } }], to: [{ operation: { methods: ['GET', 'POST'] } }] }] }),
    kindOf('AuthorizationPolicy', 'security.istio.io', 'deny-admin', 'gen-c', {
      action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] }),
    kindOf('Sidecar', 'networking.istio.io', 'default', 'gen-c', {
      egress: [{ hosts: ['./*', 'istio-system/*', 'gen-a/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } }),
  ];
}

function serviceEntries(): Obj[] {
  const se = (name: string, spec: Obj): Obj => ({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: 'gen-b' }, spec });
  return [
    se('external-api', { hosts: ['api.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS',
      ports: [{ number: 443, name: 'https', protocol: 'TLS' }] }),
    se('legacy-db', { hosts: ['db.legacy.internal'], addresses: ['192.0.2.10'], location: 'MESH_INTERNAL', resolution: 'STATIC',
      ports: [{ number: 9000, name: 'tcp', protocol: 'TCP' }], endpoints: [{ address: '203.0.113.10' }, { address: '203.0.113.11' }] }),
  ];
}

function gatewayConfig(): Obj[] {
  return [
    { apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gen-gateway', namespace: 'gen-a' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [
        { port: { number: 8080, name: 'http', protocol: 'HTTP' }, hosts: ['svc-00.example.com', 'svc-03.example.com'] },
        { port: { number: 8443, name: 'tls', protocol: 'TLS' }, hosts: ['secure.example.com'], tls: { mode: 'PASSTHROUGH' } },
      ] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'gen-ingress', namespace: 'gen-a' },
      spec: { hosts: ['svc-00.example.com', 'svc-03.example.com'], gateways: ['gen-gateway'], http: [
        { match: [{ uri: { prefix: '/v2' } }], route: [{ destination: { host: 'svc-03.gen-a.svc.cluster.local', port: { number: 7000 } } }] },
        { route: [{ destination: { host: 'svc-00.gen-a.svc.cluster.local', port: { number: 8080 } } }] },
      ] } },
    { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'gen-passthrough', namespace: 'gen-a' },
      spec: { hosts: ['secure.example.com'], gateways: ['gen-gateway'], tls: [
        { match: [{ port: 8443, sniHosts: ['secure.example.com'] }], route: [{ destination: { host: 'svc-12.gen-a.svc.cluster.local', port: { number: 8080 } } }] },
      ] } },
  ];
}

export const MESHES: Array<() => Mesh> = [bookinfo, istioTestdata, generated];
