// The injection webhook over real HTTPS with real AdmissionReview bodies, including every kind of bad input.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsonpatch from 'fast-json-patch';
import { getText, post, postDeclaredSize, startServers, type TestServers } from '../helpers/servers.js';
import { testSettings } from '../helpers/settings.js';

let s: TestServers;
before(async () => {
  s = await startServers((_pod, _ns, envs) => ({ ...testSettings(), proxyEnvs: envs }));
});
after(async () => s.close());

const pod = (meta: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, ...meta },
  spec: { containers: [{ name: 'web', image: 'nginx' }] },
});
const review = (object: unknown, apiVersion = 'admission.k8s.io/v1') => ({
  apiVersion,
  kind: 'AdmissionReview',
  request: { uid: 'uid-1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: 'shop', operation: 'CREATE', object },
});
const decodePatch = (r: any): jsonpatch.Operation[] => JSON.parse(Buffer.from(r.response.patch, 'base64').toString('utf8'));

describe('POST /inject', () => {
  it('answers a v1 review with a base64 JSONPatch that injects the pod', async () => {
    const object = pod();
    const r = await post(s, '/inject', JSON.stringify(review(object)));
    assert.equal(r.status, 200);
    const body = r.json();
    assert.equal(body.apiVersion, 'admission.k8s.io/v1');
    assert.equal(body.kind, 'AdmissionReview');
    assert.equal(body.response.uid, 'uid-1');
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, 'JSONPatch');
    const out = jsonpatch.applyPatch(structuredClone(object), decodePatch(body)).newDocument as any;
    assert.deepEqual(out.spec.initContainers.map((c: any) => c.name), ['istio-init', 'istio-proxy']);
    assert.deepEqual(out.spec.containers.map((c: any) => c.name), ['web']);
  });
  it('answers v1beta1 in v1beta1', async () => {
    const body = (await post(s, '/inject', JSON.stringify(review(pod(), 'admission.k8s.io/v1beta1')))).json();
    assert.equal(body.apiVersion, 'admission.k8s.io/v1beta1');
    assert.equal(body.response.allowed, true);
  });
  it('takes cluster and network from the path', async () => {
    const body = (await post(s, '/inject/cluster/west/net/n--slash--2', JSON.stringify(review(pod())))).json();
    const out = jsonpatch.applyPatch(pod(), decodePatch(body)).newDocument as any;
    const env = out.spec.initContainers.find((c: any) => c.name === 'istio-proxy').env;
    assert.equal(env.find((e: any) => e.name === 'ISTIO_META_CLUSTER_ID').value, 'west');
    assert.equal(env.find((e: any) => e.name === 'ISTIO_META_NETWORK').value, 'n/2');
  });
  it('allows an opted-out pod without a patch', async () => {
    const body = (await post(s, '/inject', JSON.stringify(review(pod({ labels: { 'sidecar.istio.io/inject': 'false' } }))))).json();
    assert.deepEqual(body.response, { uid: 'uid-1', allowed: true });
  });
  it('denies invalid annotations and unknown templates with the reason', async () => {
    const bad = (await post(s, '/inject', JSON.stringify(review(pod({ annotations: { 'traffic.sidecar.istio.io/includeOutboundIPRanges': 'nonsense' } }))))).json();
    assert.equal(bad.response.allowed, false);
    assert.match(bad.response.status.message, /^Pod injection failed: invalid value 'nonsense' for annotation 'traffic\.sidecar\.istio\.io\/includeOutboundIPRanges'/);
    const tpl = (await post(s, '/inject', JSON.stringify(review(pod({ annotations: { 'inject.istio.io/templates': 'missing' } }))))).json();
    assert.match(tpl.response.status.message, /requested template "missing" not found/);
  });
});

describe('bad input to /inject', () => {
  it('415 for a content type other than exactly application/json', async () => {
    for (const ct of ['text/plain', 'application/json; charset=utf-8', null]) {
      const r = await post(s, '/inject', JSON.stringify(review(pod())), ct);
      assert.equal(r.status, 415, String(ct));
      assert.match(r.body, /invalid Content-Type, want `application\/json`/);
    }
  });
  it('400 for an empty body and for one over 6 MiB', async () => {
    const empty = await post(s, '/inject', '');
    assert.deepEqual([empty.status, empty.body], [400, 'no body found']);
    const huge = await postDeclaredSize(s, '/inject', 6 * 1024 * 1024 + 1);
    assert.match(huge, /^HTTP\/1.1 400/);
    assert.match(huge, /too large/);
  });
  it('a review with allowed:false for malformed, truncated or non-review JSON', async () => {
    const full = JSON.stringify(review(pod()));
    for (const body of ['{bad', full.slice(0, full.length / 2), '[]', '"str"', '{"kind":"AdmissionReview"}', '{"apiVersion":"v1","kind":"Pod"}']) {
      const r = await post(s, '/inject', body);
      assert.equal(r.status, 200, body);
      const j = r.json();
      assert.equal(j.response.allowed, false, body);
      assert.equal(j.response.uid, '');
      assert.equal(j.apiVersion, undefined);
      assert.ok(j.response.status.message.length > 0);
    }
  });
  it('denies reviews without a request or with an object that is not a pod', async () => {
    const none = (await post(s, '/inject', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }))).json();
    assert.equal(none.response.allowed, false);
    for (const object of ['a string', 42, null, { metadata: 'x' }, { spec: [] }]) {
      const j = (await post(s, '/inject', JSON.stringify(review(object)))).json();
      assert.equal(j.response.allowed, false, JSON.stringify(object));
      assert.equal(j.response.uid, 'uid-1');
    }
  });
  it('refuses 10,000-deep nesting without falling over', async () => {
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const j = (await post(s, '/inject', `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"d","object":${deep}}}`)).json();
    assert.equal(j.response.allowed, false);
    assert.match(j.response.status.message, /nests deeper than 200 levels/);
  });
  it('treats __proto__ and constructor keys as plain data', async () => {
    const raw = JSON.stringify(review(pod())).replace('"labels":{"app":"web"}', '"labels":{"app":"web","__proto__":"x","constructor":"y"},"__proto__":{"polluted":true}');
    const j = (await post(s, '/inject', raw)).json();
    assert.equal(j.response.allowed, true);
    assert.equal(({} as any).polluted, undefined);
    const labelOps = decodePatch(j).filter((op) => op.path.startsWith('/metadata/labels'));
    assert.ok(labelOps.length > 0);
  });
  it('survives invalid UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from(JSON.stringify(review(pod())).replace('"web"}', '"web-')), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await post(s, '/inject', bytes);
    assert.equal(r.status, 200);
    assert.equal(typeof r.json().response.allowed, 'boolean');
  });
  it('still serves after all of the above, and counts it in Istio-named metrics', async () => {
    assert.equal((await post(s, '/inject', JSON.stringify(review(pod())))).json().response.allowed, true);
    const metrics = await getText(s.monitoringPort, '/metrics');
    const value = (name: string): number => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics.body)?.[1]);
    assert.ok(value('sidecar_injection_requests_total') >= 20);
    assert.ok(value('sidecar_injection_failure_total') >= 10);
    assert.ok(value('sidecar_injection_success_total') >= 4);
    assert.ok(value('sidecar_injection_skip_total') >= 1);
    assert.match(metrics.body, /sidecar_injection_time_seconds_bucket/);
    assert.deepEqual(await getText(s.monitoringPort, '/ready'), { status: 200, body: 'ok' });
  });
});
