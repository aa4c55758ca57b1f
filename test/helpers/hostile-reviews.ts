// AdmissionReviews shaped the way a hostile (or badly broken) client would send them to stall the webhook:
// each stays inside the limits istiod enforces (6 MiB bodies, 256 KiB of annotations) but makes one list
// or map as long as the body allows. `scale` 1 gives bodies of roughly 3 MiB; tests use smaller scales.
// Shared by bench/stall.ts and test/robustness/security/stall.ts.

export interface HostileReview {
  name: string;
  path: '/inject' | '/validate';
  body: string;
  /** The answer istiod gives (a bounded-size input keeps its usual verdict). */
  allowed: boolean;
}

type Obj = Record<string, unknown>;

const range = (n: number): number[] => Array.from({ length: Math.max(0, Math.floor(n)) }, (_, i) => i);

function review(object: Obj, kind: { group: string; version: string; kind: string }, resource: string): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `hostile-${Math.random().toString(36).slice(2)}`,
      kind,
      resource: { group: kind.group, version: kind.version, resource },
      namespace: 'shop',
      operation: 'CREATE',
      object,
    },
  });
}

function podReview(meta: Obj, spec: Obj): string {
  return review({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', ...meta }, spec }, { group: '', version: 'v1', kind: 'Pod' }, 'pods');
}

function istioReview(kind: string, group: string, spec: Obj): string {
  const object = { apiVersion: `${group}/v1`, kind, metadata: { name: 'hostile', namespace: 'shop' }, spec };
  return review(object, { group, version: 'v1', kind }, `${kind.toLowerCase()}s`);
}

const web = (extra: Obj = {}): Obj => ({ name: 'web', image: 'nginx', ...extra });

/** A `proxy.istio.io/config` annotation with as many proxyMetadata keys as fit in istiod's 256 KiB. */
export function proxyMetadataAnnotation(keys: number): string {
  const meta: Record<string, string> = {};
  for (const i of range(keys)) meta[`K${i}`] = 'v';
  return JSON.stringify({ proxyMetadata: meta });
}

export function hostileReviews(scale = 1): HostileReview[] {
  const n = (count: number): number => Math.max(2, Math.round(count * scale));
  const inject = (name: string, body: string, allowed = true): HostileReview => ({ name, path: '/inject', body, allowed });
  const validate = (name: string, body: string, allowed: boolean): HostileReview => ({ name, path: '/validate', body, allowed });
  const meshKey = (i: number): Obj => ({ name: `c${i}`, image: 'nginx' });
  return [
    // 20k proxyMetadata keys is about 170 KiB: within the annotation limit, so it must be injected.
    inject('proxy.istio.io/config with 20k proxyMetadata keys', podReview({ annotations: { 'proxy.istio.io/config': proxyMetadataAnnotation(n(20_000)) } }, { containers: [web()] })),
    inject('pod with 60k containers', podReview({}, { containers: range(n(60_000)).map(meshKey) })),
    inject('pod with 40k init containers', podReview({}, { initContainers: range(n(40_000)).map(meshKey), containers: [web()] })),
    inject('container with 80k env vars', podReview({}, { containers: [web({ env: range(n(80_000)).map((i) => ({ name: `E${i}`, value: 'x' })) })] })),
    inject('pod with 60k volumes', podReview({}, { volumes: range(n(60_000)).map((i) => ({ name: `v${i}`, emptyDir: {} })), containers: [web()] })),
    inject('container with 50k ports', podReview({}, { containers: [web({ ports: range(n(50_000)).map((i) => ({ name: `p${i}`, containerPort: 1 + (i % 65535) })) })] })),
    inject('pod with 100k labels', podReview({ labels: Object.fromEntries(range(n(100_000)).map((i) => [`l${i}`, 'v'])) }, { containers: [web()] })),
    inject('20k containers with HTTP probes', podReview({ annotations: {} }, {
      containers: range(n(20_000)).map((i) => ({ name: `c${i}`, image: 'nginx', readinessProbe: { httpGet: { path: '/r', port: 8000 + (i % 1000) } } })),
    })),
    validate('VirtualService with 40k HTTP prefix rules', istioReview('VirtualService', 'networking.istio.io', {
      hosts: ['web'],
      http: range(n(40_000)).map((i) => ({ match: [{ uri: { prefix: `/p${i}` } }], route: [{ destination: { host: 'web' } }] })),
    }), true),
    validate('VirtualService with 150k hosts', istioReview('VirtualService', 'networking.istio.io', {
      hosts: range(n(150_000)).map((i) => `h${i}.example.com`),
      http: [{ route: [{ destination: { host: 'web' } }] }],
    }), true),
    validate('VirtualService with 100k wildcard hosts', istioReview('VirtualService', 'networking.istio.io', {
      hosts: range(n(100_000)).map((i) => `*.h${i}.example.com`),
      http: [{ route: [{ destination: { host: 'web' } }] }],
    }), true),
    // Every pair is a duplicate: istiod would build n²/2 errors; the answer is still a denial.
    validate('VirtualService with 200k copies of one host', istioReview('VirtualService', 'networking.istio.io', {
      hosts: range(n(200_000)).map(() => 'a.com'),
      http: [{ route: [{ destination: { host: 'web' } }] }],
    }), false),
    validate('VirtualService with 40k hosts and 40k unmatched SNI hosts', istioReview('VirtualService', 'networking.istio.io', {
      hosts: range(n(40_000)).map((i) => `*.h${i}.example.com`),
      tls: [{ match: [{ sniHosts: range(n(40_000)).map((i) => `s${i}.example.org`) }], route: [{ destination: { host: 'web' } }] }],
    }), false),
    validate('Sidecar with 100k egress hosts', istioReview('Sidecar', 'networking.istio.io', {
      egress: [{ hosts: range(n(100_000)).map((i) => `ns${i}/h${i}.example.com`) }],
    }), true),
    validate('Sidecar with 30k ingress listeners', istioReview('Sidecar', 'networking.istio.io', {
      workloadSelector: { labels: { app: 'web' } },
      ingress: range(n(30_000)).map((i) => ({ port: { number: 1 + (i % 65535), protocol: 'HTTP', name: `p${i}` }, defaultEndpoint: `127.0.0.1:${1 + (i % 65535)}` })),
    }), true),
    validate('AuthorizationPolicy with 30k rules', istioReview('AuthorizationPolicy', 'security.istio.io', {
      rules: range(n(30_000)).map((i) => ({ from: [{ source: { principals: [`cluster.local/ns/a/sa/s${i}`] } }], to: [{ operation: { paths: [`/p${i}`] } }] })),
    }), true),
    validate('EnvoyFilter with 20k patches', istioReview('EnvoyFilter', 'networking.istio.io', {
      configPatches: range(n(20_000)).map((i) => ({
        applyTo: 'HTTP_FILTER',
        match: { context: 'SIDECAR_INBOUND', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
        patch: { operation: 'INSERT_BEFORE', value: { name: `f${i}`, typed_config: { '@type': 'type.googleapis.com/udpa.type.v1.TypedStruct' } } },
      })),
    }), true),
  ];
}
