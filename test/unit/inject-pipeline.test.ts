import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonpatch from 'fast-json-patch';
import { injectPod, InjectionError } from '../../src/inject/inject.js';
import { parseInjectEnvs } from '../../src/inject/url-params.js';
import type { Container, Pod } from '../../src/types.js';
import { testSettings } from '../helpers/settings.js';

const basePod = (extra: { annotations?: Record<string, string>; labels?: Record<string, string>; containers?: Container[] } = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web', ...(extra.labels ?? {}) }, annotations: extra.annotations ?? {} },
  spec: { containers: extra.containers ?? [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
});

function injected(pod: Pod, settings = testSettings()): Pod {
  const r = injectPod(pod, 'shop', settings);
  assert.equal(r.kind, 'injected');
  return r.kind === 'injected' ? r.pod : pod;
}

const env = (c: Container | undefined, name: string): string | undefined => c?.env?.find((e) => e.name === name)?.value;
const proxyOf = (p: Pod): Container | undefined => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === 'istio-proxy');

describe('injection pipeline', () => {
  it('adds istio-init and a native istio-proxy, and a patch that reproduces the pod', () => {
    const pod = basePod();
    const r = injectPod(pod, 'shop', testSettings());
    assert.equal(r.kind, 'injected');
    if (r.kind !== 'injected') return;
    assert.deepEqual(r.pod.spec!.initContainers!.map((c) => c.name), ['istio-init', 'istio-proxy']);
    assert.equal(r.pod.spec!.initContainers![1]!.restartPolicy, 'Always');
    assert.equal(r.pod.spec!.initContainers![0]!.image, 'example.test/istio/proxyv2:1.0.0');
    assert.deepEqual(jsonpatch.applyPatch(structuredClone(pod), r.patch).newDocument, r.pod);
    assert.equal(r.pod.metadata!.annotations!['prometheus.io/port'], '15020');
    assert.equal(env(proxyOf(r.pod), 'ISTIO_META_POD_PORTS'), '[\n    {"name":"http","containerPort":8080}\n]');
  });
  it('puts istio-proxy last in containers without native sidecars, first when it must start first', () => {
    const classic = injected(basePod(), testSettings({ native: false }));
    assert.deepEqual(classic.spec!.containers!.map((c) => c.name), ['web', 'istio-proxy']);
    const hold = injected(basePod(), testSettings({ native: false, values: { global: { proxy: { holdApplicationUntilProxyStarts: true } } } }));
    assert.deepEqual(hold.spec!.containers!.map((c) => c.name), ['istio-proxy', 'web']);
    assert.deepEqual((hold.spec!.containers![0]!.lifecycle as any).postStart.exec.command, ['pilot-agent', 'wait']);
  });
  it('never modifies the pod it is given', () => {
    const pod = basePod({ annotations: { 'prometheus.io/scrape': 'true' }, containers: [{ name: 'web', image: 'nginx', readinessProbe: { httpGet: { path: '/r', port: 80 } } }, { name: 'istio-proxy', image: 'auto' }] });
    (pod.metadata as any).managedFields = [{ manager: 'kubectl' }];
    const before = structuredClone(pod);
    injected(pod);
    injected(pod, testSettings({ native: false }));
    assert.deepEqual(pod, before);
  });
  it('skips pods that opt out, without a patch', () => {
    assert.deepEqual(injectPod(basePod({ labels: { 'sidecar.istio.io/inject': 'false' } }), 'shop', testSettings()), { kind: 'skipped', reason: 'policy' });
  });
  it('denies invalid annotations and unknown templates with a clear message', () => {
    assert.throws(() => injectPod(basePod({ annotations: { 'sidecar.istio.io/interceptionMode': 'MAGIC' } }), 'shop', testSettings()), (e: Error) => e instanceof InjectionError && /interceptionMode invalid/.test(e.message));
    assert.throws(() => injectPod(basePod({ annotations: { 'inject.istio.io/templates': 'nope' } }), 'shop', testSettings()), /requested template "nope" not found; have gateway, grpc-agent, grpc-simple, sidecar/);
  });
  it('keeps every field it does not model, on the pod and on user containers', () => {
    const pod = basePod();
    (pod.spec as any).futureField = { x: [1, 2] };
    (pod.spec!.containers![0] as any).unknownContainerField = 'kept';
    (pod as any).status = { phase: 'Pending' };
    const out = injected(pod);
    assert.deepEqual((out.spec as any).futureField, { x: [1, 2] });
    assert.equal((out.spec!.containers![0] as any).unknownContainerField, 'kept');
    assert.deepEqual((out as any).status, { phase: 'Pending' });
  });
  it('lays a user istio-proxy over the injected one and records it for re-injection', () => {
    const pod = basePod({ containers: [{ name: 'web', image: 'nginx' }, { name: 'istio-proxy', image: 'auto', resources: { limits: { cpu: '3' } }, securityContext: { runAsUser: 1234 } }] });
    const out = injected(pod);
    const proxy = proxyOf(out)!;
    assert.equal(proxy.image, 'example.test/istio/proxyv2:1.0.0');
    assert.deepEqual((proxy.resources as any).limits.cpu, '3');
    assert.equal(out.spec!.initContainers![0]!.args![out.spec!.initContainers![0]!.args!.indexOf('-u') + 1], '1234');
    assert.equal(out.metadata!.annotations!['proxy.istio.io/overrides'], '{"initContainers":[{"name":"istio-proxy","resources":{"limits":{"cpu":"3"}},"securityContext":{"runAsUser":1234}}]}');
  });
  it('is idempotent: injecting an injected pod changes nothing but stays injected', () => {
    const once = injected(basePod({ containers: [{ name: 'web', image: 'nginx', readinessProbe: { httpGet: { path: '/ready', port: 8080 } } }] }));
    const twice = injected(once);
    assert.deepEqual(twice, once);
    assert.equal(env(proxyOf(twice), 'ISTIO_KUBE_APP_PROBERS'), '{"/app-health/web/readyz":{"httpGet":{"path":"/ready","port":8080}}}');
  });
  it('rewrites HTTP, TCP and named-port probes to the status port', () => {
    const out = injected(basePod({ containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }], livenessProbe: { tcpSocket: { port: 'http' }, timeoutSeconds: 2 }, readinessProbe: { httpGet: { path: '/r', port: 8080, scheme: 'HTTPS' } }, startupProbe: { exec: { command: ['true'] } } }] }));
    const web = out.spec!.containers![0]!;
    assert.deepEqual(web.livenessProbe, { httpGet: { path: '/app-health/web/livez', port: 15020 }, timeoutSeconds: 2 });
    assert.deepEqual(web.readinessProbe, { httpGet: { path: '/app-health/web/readyz', port: 15020, scheme: 'HTTP' } });
    assert.deepEqual(web.startupProbe, { exec: { command: ['true'] } });
    assert.equal(env(proxyOf(out), 'ISTIO_KUBE_APP_PROBERS'), '{"/app-health/web/livez":{"tcpSocket":{"port":8080},"timeoutSeconds":2},"/app-health/web/readyz":{"httpGet":{"path":"/r","port":8080,"scheme":"HTTPS"}}}');
  });
  it('merges Prometheus scrape annotations and refuses scrape targets on Istio ports', () => {
    const out = injected(basePod({ annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/m' } }));
    assert.deepEqual(
      { port: out.metadata!.annotations!['prometheus.io/port'], path: out.metadata!.annotations!['prometheus.io/path'] },
      { port: '15020', path: '/stats/prometheus' },
    );
    assert.equal(env(proxyOf(out), 'ISTIO_PROMETHEUS_ANNOTATIONS'), '{"scrape":"true","path":"/m","port":"9090"}');
    assert.throws(() => injectPod(basePod({ annotations: { 'prometheus.istio.io/scrape-targets': '15090:/stats' } }), 'shop', testSettings()), /reserved for Istio \(Envoy Prometheus/);
  });
  it('moves URL cluster and network env to the end and labels the network', () => {
    const settings = { ...testSettings(), proxyEnvs: parseInjectEnvs('/inject/cluster/east/net/n1') };
    const out = injected(basePod(), settings);
    const names = proxyOf(out)!.env!.map((e) => e.name);
    assert.deepEqual(names.slice(-2), ['ISTIO_META_CLUSTER_ID', 'ISTIO_META_NETWORK']);
    assert.equal(names.filter((n) => n === 'ISTIO_META_CLUSTER_ID').length, 1);
    assert.equal(env(proxyOf(out), 'ISTIO_META_CLUSTER_ID'), 'east');
    assert.equal(out.metadata!.labels!['topology.istio.io/network'], 'n1');
  });
  it('writes annotation text into the pod as data, never as YAML structure', () => {
    const out = injected(basePod({ annotations: { 'sidecar.istio.io/logLevel': 'debug"\n    privileged: true\n  x: "' } }));
    const proxy = proxyOf(out)!;
    assert.ok(proxy.args!.includes('--proxyLogLevel=debug"\n    privileged: true\n  x: "'));
    assert.equal((proxy.securityContext as any).privileged, false);
  });
});

describe('URL path parameters', () => {
  it('map cluster and net, upper-case other keys, decode --slash--, ignore a trailing key', () => {
    assert.deepEqual(parseInjectEnvs('/inject/cluster/c1/net/n--slash--2/custom_env/v/odd'), { ISTIO_META_CLUSTER_ID: 'c1', ISTIO_META_NETWORK: 'n/2', CUSTOM_ENV: 'v' });
    assert.deepEqual(parseInjectEnvs('/inject/:ENV:cluster=c2:ENV:rootpage=/foo/bar'), { ISTIO_META_CLUSTER_ID: 'c2', ROOTPAGE: '/foo/bar' });
    assert.deepEqual(parseInjectEnvs('/inject/'), {});
  });
});
