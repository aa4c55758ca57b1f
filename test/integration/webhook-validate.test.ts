// The validating webhook over real HTTPS with real AdmissionReview bodies, and `meshd validate`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getText, post, postDeclaredSize, startServers, type TestServers } from '../helpers/servers.js';
import { testSettings } from '../helpers/settings.js';

let s: TestServers;
before(async () => {
  s = await startServers((_p, _n, envs) => ({ ...testSettings(), proxyEnvs: envs }));
});
after(async () => s.close());

const gateway = (servers: unknown[]) => ({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'edge' }, spec: { servers } });
const goodServer = { port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*.example.com'] };
const review = (object: unknown, extra: Record<string, unknown> = {}, apiVersion = 'admission.k8s.io/v1') => ({
  apiVersion,
  kind: 'AdmissionReview',
  request: { uid: 'v-1', kind: { group: 'networking.istio.io', version: 'v1', kind: 'Gateway' }, resource: { group: 'networking.istio.io', version: 'v1', resource: 'gateways' }, namespace: 'edge', operation: 'CREATE', object, ...extra },
});

describe('POST /validate', () => {
  it('allows valid config and echoes the review version', async () => {
    for (const v of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1']) {
      const body = (await post(s, '/validate', JSON.stringify(review(gateway([goodServer]), {}, v)))).json();
      assert.deepEqual(body, { apiVersion: v, kind: 'AdmissionReview', response: { uid: 'v-1', allowed: true } });
    }
  });
  it('denies invalid config with istiod wording, for CREATE, UPDATE and dry runs', async () => {
    for (const extra of [{}, { operation: 'UPDATE' }, { dryRun: true }]) {
      const body = (await post(s, '/validate/extra/path', JSON.stringify(review(gateway([]), extra)))).json();
      assert.equal(body.response.allowed, false);
      assert.equal(body.response.status.message, 'configuration is invalid: gateway must have at least one server');
      assert.equal(body.response.status.code, undefined);
    }
  });
  it('allows DELETE without looking at the object', async () => {
    const body = (await post(s, '/validate', JSON.stringify(review('not even an object', { operation: 'DELETE' })))).json();
    assert.equal(body.response.allowed, true);
  });
  it('denies unknown kinds and returns warnings for allowed objects', async () => {
    const unknown = (await post(s, '/validate', JSON.stringify(review({ apiVersion: 'networking.istio.io/v1', kind: 'Mystery', metadata: { name: 'm' } })))).json();
    assert.match(unknown.response.status.message, /unrecognized type networking.istio.io\/v1, Kind=Mystery/);
    const ef = { apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: { name: 'ef', namespace: 'edge' }, spec: {} };
    const warned = (await post(s, '/validate', JSON.stringify(review(ef)))).json();
    assert.equal(warned.response.allowed, true);
    assert.match(warned.response.warnings[0], /EnvoyFilter exposes internal implementation details/);
  });
  it('applies the same transport rules as /inject', async () => {
    assert.equal((await post(s, '/validate', JSON.stringify(review(gateway([goodServer]))), 'text/yaml')).status, 415);
    assert.equal((await post(s, '/validate', '')).status, 400);
    assert.match(await postDeclaredSize(s, '/validate', 6 * 1024 * 1024 + 1), /^HTTP\/1.1 400/);
    const garbled = (await post(s, '/validate', '{"apiVersion":')).json();
    assert.equal(garbled.response.allowed, false);
    assert.equal(garbled.response.uid, '');
  });
  it('counts verdicts in galley metrics', async () => {
    const m = (await getText(s.monitoringPort, '/metrics')).body;
    assert.match(m, /galley_validation_passed\{group="networking.istio.io",version="v1",resource="gateways"\} [1-9]/);
    assert.match(m, /galley_validation_failed\{group="networking.istio.io",version="v1",resource="gateways",reason="invalid_resource"\} 2/);
    assert.match(m, /galley_validation_http_error\{status="415"\} 1/);
    assert.match(m, /galley_validation_http_error\{status="400"\} 2/);
  });
});

describe('meshd validate', () => {
  const ROOT = join(import.meta.dirname, '..', '..');
  const run = (input: string) => spawnSync(process.execPath, ['bin/meshd.js', 'validate', '-f', '-'], { cwd: ROOT, input, encoding: 'utf8' });
  it('prints a verdict per object and exits 1 when one is invalid', () => {
    const r = run(['apiVersion: networking.istio.io/v1', 'kind: Gateway', 'metadata: {name: ok}', 'spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}', '---', 'apiVersion: networking.istio.io/v1', 'kind: Gateway', 'metadata: {name: bad}', 'spec: {}', '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: c}'].join('\n'));
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '✔ Gateway default/ok\n✘ Gateway default/bad: configuration is invalid: gateway must have at least one server\n- ConfigMap default/c: not a kind istioctl validate checks, skipped\n');
  });
  it('exits 0 for valid input and reports YAML errors', () => {
    assert.equal(run('apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p}\nspec: {mtls: {mode: STRICT}}\n').status, 0);
    const broken = run('a: [unclosed');
    assert.equal(broken.status, 1);
    assert.match(broken.stdout, /^✘ stdin:1:13: /);
  });
});
