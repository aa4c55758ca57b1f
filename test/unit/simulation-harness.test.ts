// The pure parts of conformance:simulation: comparing a simulator result with a case's expectation, a
// case's call as the simulate tool takes it (defaults left to Call.FillDefaults), the proxy's Envoy node,
// and the harness rules for what meshd is given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimCase } from '../conformance/simulation/cases.js';
import { toolCall } from '../conformance/simulation/calls.js';
import { differences, type SimResult } from '../conformance/simulation/expect.js';
import { meshdInputs } from '../conformance/simulation/inputs.js';
import { buildNode } from '../conformance/simulation/node.js';

const got = (r: Partial<SimResult>): SimResult =>
  ({ error: '', listener: '', filterChain: '', routeConfig: '', virtualHost: '', route: '', cluster: '', ...r });
const strict = { error: 'none', strictMatch: true, filterChain: '', routeConfig: '', virtualHost: '', route: '' };

describe('simulation expectations', () => {
  const rows: Array<[string, Parameters<typeof differences>[0], SimResult, string[]]> = [
    ['none is no error', { error: 'none' }, got({ listener: 'x' }), []],
    ['the error always counts', { error: 'none' }, got({ error: 'no route matched' }),
      ['error: want none, got no route matched']],
    ['an expected error must happen', { error: 'no route matched' }, got({}),
      ['error: want no route matched, got none']],
    ['absent fields are not compared', { error: 'none', cluster: 'c' }, got({ cluster: 'c', route: 'r' }), []],
    ['an empty field is not compared', { error: 'none', route: '' }, got({ route: 'r' }), []],
    ['a given field must be equal', { error: 'none', virtualHost: 'foo.bar:80' }, got({ virtualHost: '*:80' }),
      ['virtualHost: want "foo.bar:80", got "*:80"']],
    ['fields recorded before the error still count', { error: 'no route matched', routeConfig: 'http.80' },
      got({ error: 'no route matched', routeConfig: 'http.80' }), []],
    ['strictMatch: empty means empty', { ...strict, listener: 'l', cluster: 'c' },
      got({ listener: 'l', cluster: 'c', filterChain: 'fc' }),
      ['filterChain: want "", got "fc"']],
    ['strictMatch: all equal', { ...strict, listener: 'l', cluster: 'c' }, got({ listener: 'l', cluster: 'c' }), []],
  ];
  for (const [name, want, result, diffs] of rows) it(name, () => assert.deepEqual(differences(want, result), diffs));
});

describe('simulation calls', () => {
  it('renames the case fields to simulation.Call and leaves the defaults to FillDefaults', () => {
    assert.deepEqual(toolCall({ port: 80, protocol: 'http', host: 'foo.bar', mode: 'inbound' }),
      { Port: 80, Protocol: 'http', HostHeader: 'foo.bar', CallMode: 'inbound' });
    assert.deepEqual(toolCall({}), {});
    const all = { address: '1.2.3.4', tls: 'mtls', alpn: 'istio', sni: 's', path: '/p', mtlsSecretConfigName: 'n' };
    assert.deepEqual(toolCall(all),
      { Address: '1.2.3.4', TLS: 'mtls', Alpn: 'istio', Sni: 's', Path: '/p', MtlsSecretConfigName: 'n' });
  });

  it('passes filter chain validations through and refuses fields the simulator does not know', () => {
    const v = [{ transportSocket: 'required', requireClientCertificate: false }];
    assert.deepEqual(toolCall({ port: 9080, filterChainValidations: v }), { Port: 9080, filterChainValidations: v });
    assert.throws(() => toolCall({ method: 'GET' } as never), /"method" is not one the simulator knows/);
  });
});

describe('simulation proxy node', () => {
  it('builds the agent id and metadata of a sidecar', () => {
    const n = buildNode({
      type: 'sidecar', id: 'app.test', ips: ['1.1.1.1'], namespace: 'default', dnsDomain: 'default.svc.cluster.local',
      labels: { app: 'foo' }, metadata: { LABELS: { app: 'foo' }, NAMESPACE: 'default', ISTIO_VERSION: '1.23.0' },
    });
    assert.deepEqual(n, {
      id: 'sidecar~1.1.1.1~app.test~default.svc.cluster.local',
      cluster: 'foo.default',
      metadata: {
        LABELS: { app: 'foo' }, NAMESPACE: 'default', ISTIO_VERSION: '1.23.0', INSTANCE_IPS: '1.1.1.1',
        CLUSTER_ID: 'Kubernetes',
      },
    });
  });

  it('keeps a gateway metadata namespace apart from its config namespace, and every IP', () => {
    const n = buildNode({
      type: 'router', id: 'app.test', ips: ['1234::1234', '1.1.1.1'], namespace: 'default',
      metadata: { NAMESPACE: 'istio-system', DNS_CAPTURE: 'true' }, clusterID: 'c1',
    });
    assert.equal(n.id, 'router~1234::1234~app.test~default.svc.cluster.local');
    assert.equal(n.cluster, 'istio-proxy.istio-system');
    assert.deepEqual(n.metadata, {
      NAMESPACE: 'istio-system', DNS_CAPTURE: 'true', LABELS: {}, INSTANCE_IPS: '1234::1234,1.1.1.1', CLUSTER_ID: 'c1',
      ISTIO_VERSION: '1.23.0',
    });
  });

  it('uses the harness defaults when the proxy leaves fields out', () => {
    const n = buildNode({ type: 'sidecar', id: 'app.test' });
    assert.equal(n.id, 'sidecar~1.1.1.1~app.test~default.svc.cluster.local');
    assert.equal(n.metadata.NAMESPACE, 'default');
  });
});

describe('simulation meshd inputs', () => {
  const base: SimCase = {
    file: 'f.yaml', name: 'n', source: { file: 'x_test.go', test: 'T', case: '', harness: 'runSimulationTest' },
    proxy: { type: 'sidecar', id: 'app.test' }, validate: [], calls: [],
  };
  const istio = 'networking.istio.io/v1';
  const T = '2026-01-01T00:00:00Z';
  const OLD = '2010-01-01T00:00:00Z';

  it('gives objects namespace default and one creation time, keeping what they set', () => {
    const i = meshdInputs({
      ...base,
      config: [
        { apiVersion: istio, kind: 'VirtualService', metadata: { name: 'a' }, spec: {} },
        { apiVersion: istio, kind: 'Gateway', metadata: { name: 'b', namespace: 'ns', creationTimestamp: OLD } },
      ],
      kube: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: {} }],
    }, T);
    assert.deepEqual(i.objects.map((o) => o.metadata), [
      { name: 'a', namespace: 'default', creationTimestamp: T },
      { name: 'b', namespace: 'ns', creationTimestamp: OLD },
      { name: 's', namespace: 'default', creationTimestamp: T },
    ]);
    assert.deepEqual(i.unsupported, []);
  });

  it('leaves the in-memory configs of the harness without a creation time', () => {
    const annotations = { 'internal.istio.io/parents': 'TLSRoute/r.default' };
    const vs = { apiVersion: istio, kind: 'VirtualService', metadata: { name: 'a', annotations } };
    const [stored] = meshdInputs({ ...base, config: [vs] }, T).objects;
    assert.equal((stored!.metadata as Record<string, unknown>).creationTimestamp, undefined);
  });

  it('ignores non-Istio kinds in config, as the harness does, and names inputs meshd cannot read', () => {
    const ingress = (name: string): Record<string, unknown> =>
      ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name } });
    const i = meshdInputs({
      ...base,
      config: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }],
      kube: [ingress('i'), ingress('j')],
      registry: { services: [] },
    }, T);
    assert.deepEqual(i.objects, []);
    assert.equal(i.unsupported.length, 2);
    assert.match(i.unsupported[0]!, /meshd does not read Ingress \(networking.k8s.io\/v1\)/);
    assert.match(i.unsupported[1]!, /memory registry/);
  });

  it('passes mesh overrides and flags through', () => {
    const mesh = { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } };
    const i = meshdInputs({ ...base, mesh, flags: { ENABLE_TLS_ON_SIDECAR_INGRESS: true } }, T);
    assert.deepEqual(i.mesh, { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } });
    assert.deepEqual(i.env, { ENABLE_TLS_ON_SIDECAR_INGRESS: 'true' });
  });
});
