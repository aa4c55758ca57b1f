// The fuzzer's pod generator, shared with the side-by-side run against istiod (test/conformance/istiod):
// annotations and labels that reach Istio's parsers, with tricky values, and containers with stray fields.
import fc from 'fast-check';
import type { Pod } from '../../src/types.js';

// Keys and values that reach Istio's annotation parsers, YAML decoding and template interpolation.
const ANNOTATION_KEYS = [
  'sidecar.istio.io/inject', 'sidecar.istio.io/proxyCPU', 'sidecar.istio.io/proxyMemory', 'sidecar.istio.io/interceptionMode',
  'traffic.sidecar.istio.io/includeOutboundIPRanges', 'traffic.sidecar.istio.io/excludeInboundPorts', 'proxy.istio.io/config',
  'sidecar.istio.io/userVolume', 'sidecar.istio.io/userVolumeMount', 'sidecar.istio.io/statsInclusionPrefixes', 'inject.istio.io/templates',
  'sidecar.istio.io/logLevel', 'status.sidecar.istio.io/port', 'readiness.status.sidecar.istio.io/initialDelaySeconds', 'prometheus.io/scrape',
  'sidecar.istio.io/nativeSidecar', 'sidecar.istio.io/agentLogLevel', 'x.example.com/free',
];
const tricky = fc.oneof(
  fc.string(),
  fc.constantFrom('{{ .Values }}', '}}', 'a: &a [*a]', '*a', '[1,2', '{"concurrency": -1}', 'true', 'false', '0', '-1', '1e9', '10.0.0.0/8,*', '15020', '', ' ', '\u0000', 'ä\ud800'),
  fc.json(),
);
const extraFields = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['name', 'image'].includes(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const container = fc.record({ name: fc.constantFrom('app', 'istio-proxy', 'istio-init', 'side', 'x'), image: fc.constantFrom('nginx', 'auto', ''), extra: extraFields });
export const pod = fc.record({
  annotations: fc.dictionary(fc.constantFrom(...ANNOTATION_KEYS), tricky, { maxKeys: 5 }),
  labels: fc.dictionary(fc.constantFrom('app', 'version', 'sidecar.istio.io/inject', 'istio.io/rev', 'service.istio.io/canonical-name'), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
  containers: fc.uniqueArray(container, { minLength: 1, maxLength: 3, selector: (c) => c.name }),
  specExtra: extraFields,
});

export function toPod(p: { annotations: Record<string, unknown>; labels: Record<string, string>; containers: Array<{ name: string; image: string; extra: Record<string, unknown> }>; specExtra: Record<string, unknown> }): Pod {
  const annotations = Object.fromEntries(Object.entries(p.annotations).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  // Through JSON, as the API server's requests arrive (fast-check also makes null-prototype objects).
  return JSON.parse(JSON.stringify({
    metadata: { name: 'fuzz', namespace: 'shop', annotations, labels: p.labels },
    spec: { ...p.specExtra, containers: p.containers.map((c) => ({ ...c.extra, name: c.name, image: c.image })) },
  })) as Pod;
}

// Pods the API server admits, for comparing whole injections with istiod: realistic values for the
// annotations Istio reads, probes of every kind, init containers (some of them native sidecars already),
// security contexts, resources, ports and template choices.
const ANNOTATION_VALUES: Record<string, string[]> = {
  'sidecar.istio.io/inject': ['true', 'false'],
  'sidecar.istio.io/proxyCPU': ['100m', '2'],
  'sidecar.istio.io/proxyMemory': ['128Mi', '1Gi'],
  'sidecar.istio.io/proxyCPULimit': ['500m'],
  'sidecar.istio.io/proxyMemoryLimit': ['512Mi'],
  'sidecar.istio.io/interceptionMode': ['REDIRECT', 'TPROXY'],
  'traffic.sidecar.istio.io/includeOutboundIPRanges': ['*', '10.0.0.0/8,172.16.0.0/12', ''],
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': ['169.254.169.254/32'],
  'traffic.sidecar.istio.io/includeInboundPorts': ['*', '80,8080', ''],
  'traffic.sidecar.istio.io/excludeInboundPorts': ['9090', '15020,8081'],
  'traffic.sidecar.istio.io/excludeOutboundPorts': ['5432'],
  'traffic.sidecar.istio.io/kubevirtInterfaces': ['net1'],
  'proxy.istio.io/config': ['concurrency: 2', 'holdApplicationUntilProxyStarts: true', 'terminationDrainDuration: 30s', '{"proxyMetadata": {"A": "b"}}'],
  'sidecar.istio.io/logLevel': ['debug', 'warning'],
  'sidecar.istio.io/componentLogLevel': ['misc:error'],
  'sidecar.istio.io/agentLogLevel': ['debug'],
  'inject.istio.io/templates': ['sidecar', 'gateway', 'grpc-agent', 'grpc-simple', 'sidecar,grpc-simple'],
  'sidecar.istio.io/rewriteAppHTTPProbers': ['true', 'false'],
  'status.sidecar.istio.io/port': ['15020', '0', '15021'],
  'readiness.status.sidecar.istio.io/initialDelaySeconds': ['5'],
  'readiness.status.sidecar.istio.io/periodSeconds': ['10'],
  'readiness.status.sidecar.istio.io/failureThreshold': ['3'],
  'readiness.status.sidecar.istio.io/applicationPorts': ['80,8080'],
  'prometheus.io/scrape': ['true', 'false'],
  'prometheus.io/port': ['9090'],
  'prometheus.io/path': ['/stats'],
  'sidecar.istio.io/nativeSidecar': ['true', 'false'],
  'sidecar.istio.io/statsInclusionPrefixes': ['cluster.outbound,listener'],
  'sidecar.istio.io/enableCoreDump': ['true'],
  'sidecar.istio.io/userVolume': ['[{"name":"extra","emptyDir":{}}]'],
  'sidecar.istio.io/userVolumeMount': ['[{"name":"extra","mountPath":"/extra"}]'],
  'kubectl.kubernetes.io/default-container': ['app'],
};
const annotations = fc
  .subarray(Object.keys(ANNOTATION_VALUES), { maxLength: 6 })
  .chain((keys) => fc.tuple(...keys.map((k) => fc.constantFrom(...ANNOTATION_VALUES[k]!).map((v) => [k, v] as const))))
  .map((entries) => Object.fromEntries(entries));
const labels = fc.record(
  { app: fc.constantFrom('web', 'api'), version: fc.constantFrom('v1', 'v2'), 'sidecar.istio.io/inject': fc.constantFrom('true', 'false'), 'service.istio.io/canonical-name': fc.constantFrom('shop') },
  { requiredKeys: ['app'] },
);
const portRef = fc.constantFrom<number | string>(80, 8080, 'http');
const probe = fc.oneof(
  fc.record({ httpGet: fc.record({ path: fc.constantFrom('/', '/healthz'), port: portRef, scheme: fc.constantFrom('HTTP', 'HTTPS') }, { requiredKeys: ['port'] }) }),
  fc.record({ tcpSocket: fc.record({ port: portRef }) }),
  fc.record({ grpc: fc.record({ port: fc.constantFrom(9000), service: fc.constantFrom('health') }, { requiredKeys: ['port'] }) }),
  fc.record({ exec: fc.record({ command: fc.constant(['cat', '/tmp/ok']) }) }),
).chain((handler) => fc.record({ initialDelaySeconds: fc.constantFrom(0, 5), periodSeconds: fc.constantFrom(10) }, { requiredKeys: [] }).map((t) => ({ ...handler, ...t })));
const securityContext = fc.record(
  { runAsUser: fc.constantFrom(0, 1000, 1337), runAsNonRoot: fc.boolean(), readOnlyRootFilesystem: fc.boolean(), allowPrivilegeEscalation: fc.boolean(), capabilities: fc.constant({ drop: ['ALL'] }) },
  { requiredKeys: [] },
);
const resources = fc.record({ requests: fc.constant({ cpu: '50m', memory: '64Mi' }), limits: fc.constant({ cpu: '1', memory: '256Mi' }) }, { requiredKeys: [] });
const appContainer = (name: string) => fc.record(
  {
    image: fc.constantFrom('nginx', 'busybox:1.36'),
    ports: fc.constantFrom([{ name: 'http', containerPort: 80 }], [{ name: 'http', containerPort: 8080 }, { name: 'grpc', containerPort: 9000 }]),
    readinessProbe: probe,
    livenessProbe: probe,
    startupProbe: probe,
    securityContext,
    resources,
  },
  { requiredKeys: ['image', 'ports'] },
).map((c) => ({ name, ...c }));
// An init container; a native one (restartPolicy Always) may have a readiness probe, a plain one may not.
const initContainer = (name: string) => fc.record({ native: fc.boolean(), securityContext, probe: fc.boolean() }).map((c) => ({
  name,
  image: 'busybox:1.36',
  command: ['sh', '-c', 'true'],
  securityContext: c.securityContext,
  ...(c.native ? { restartPolicy: 'Always', ...(c.probe ? { readinessProbe: { exec: { command: ['true'] } } } : {}) } : {}),
}));

export const admissiblePod = fc.record({
  annotations,
  labels,
  containers: fc.constantFrom(['app'], ['app', 'side'], ['web', 'app', 'side']).chain((ns) => fc.tuple(...ns.map(appContainer))),
  initContainers: fc.constantFrom([], ['init-db'], ['init-db', 'log-shipper']).chain((ns) => fc.tuple(...ns.map(initContainer))),
  podSecurity: fc.record({ runAsUser: fc.constantFrom(1000), fsGroup: fc.constantFrom(2000), runAsNonRoot: fc.boolean() }, { requiredKeys: [] }),
  serviceAccountName: fc.constantFrom('default', 'shop'),
}).map((p): Pod => JSON.parse(JSON.stringify({
  metadata: { generateName: `${p.labels.app}-`, namespace: 'shop', labels: p.labels, annotations: p.annotations },
  spec: {
    serviceAccountName: p.serviceAccountName,
    securityContext: p.podSecurity,
    ...(p.initContainers.length > 0 ? { initContainers: p.initContainers } : {}),
    containers: p.containers,
  },
})) as Pod);
