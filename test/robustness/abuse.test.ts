// Abuse against a running `meshd serve` on 127.0.0.1: YAML bombs and template or field injection through
// annotations, huge label maps, a 100-container pod, slow-drip clients, 1,000 concurrent connections. Each
// gets a clear error or a correct answer, the process stays up, and its heap comes back near its baseline.
// (test/integration checks the exact answers to malformed bodies on the in-process app; here the same inputs
// hit the real process, interleaved with good reviews.)
import assert from 'node:assert/strict';
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMeshd, type MeshdProcess } from '../helpers/meshd-process.js';
import { getText, post, postDeclaredSize } from '../helpers/servers.js';

let meshd: MeshdProcess;
const REQUEST_TIMEOUT_S = 2;

before(async () => {
  meshd = await startMeshd(['--local-dir', 'test/fixtures/local', '--native-sidecars', 'false', '--request-timeout', `${REQUEST_TIMEOUT_S}s`]);
});
after(async () => meshd?.close());

const pod = (annotations: Record<string, string> = {}, labels: Record<string, string> = { app: 'web' }, containers = [{ name: 'web', image: 'nginx' }]) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', operation: 'CREATE', object: { metadata: { name: 'web', namespace: 'shop', labels, annotations }, spec: { containers } } },
});

async function inject(body: unknown): Promise<{ allowed: boolean; message?: string; ops: Array<{ op: string; path: string; value?: any }> }> {
  const r = await post(meshd, '/inject', JSON.stringify(body));
  assert.equal(r.status, 200, r.body);
  const resp = r.json().response;
  return { allowed: resp.allowed, message: resp.status?.message, ops: resp.patch ? JSON.parse(Buffer.from(resp.patch, 'base64').toString('utf8')) : [] };
}

async function heapUsed(): Promise<number> {
  const m = await getText(meshd.monitoringPort, '/metrics');
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(m.body)![1]);
}

const proxyOf = (ops: Array<{ path: string; value?: any }>) => ops.find((o) => o.path === '/spec/containers/1' || o.path === '/spec/containers/-')?.value ?? ops.find((o) => o.path === '/spec/containers')?.value?.find((c: any) => c.name === 'istio-proxy');

const aliasBomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghij'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghij'[i]}`).join(', ')}]`)].join('\n');

describe('abuse against a running meshd', () => {
  let baseline = 0;
  it('records a baseline', async () => {
    for (let i = 0; i < 50; i++) assert.equal((await inject(pod())).allowed, true);
    baseline = await heapUsed();
  });

  it('answers transport-level bad input with a clear error and keeps serving', async () => {
    const good = JSON.stringify(pod());
    const cases: Array<[string, string | Buffer, string | null, number, RegExp]> = [
      ['malformed JSON', '{bad', 'application/json', 200, /"allowed":false/],
      ['truncated JSON', good.slice(0, good.length / 2), 'application/json', 200, /"allowed":false/],
      ['wrong Content-Type', good, 'text/plain', 415, /invalid Content-Type/],
      ['missing Content-Type', good, null, 415, /invalid Content-Type/],
      ['empty body', '', 'application/json', 400, /no body found/],
      ['10,000-deep nesting', `{"request":{"uid":"d","object":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`, 'application/json', 200, /nests deeper/],
      ['invalid UTF-8', Buffer.concat([Buffer.from(good.slice(0, -3)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('}}}')]), 'application/json', 200, /"allowed"/],
      ['__proto__ keys', good.replace('"labels":{', '"labels":{"__proto__":"x","constructor":"y",'), 'application/json', 200, /"allowed":true/],
    ];
    for (const [name, body, type, status, answer] of cases) {
      for (const path of ['/inject', '/validate']) {
        const r = await post(meshd, path, body, type);
        assert.equal(r.status, status, `${name} ${path}: ${r.body.slice(0, 200)}`);
        if (path === '/inject') assert.match(r.body, answer, name);
      }
      assert.equal((await inject(pod())).allowed, true, `still serving after ${name}`);
    }
  });

  it('refuses a body declared over 6 MiB before reading it', async () => {
    for (const path of ['/inject', '/validate']) {
      const answer = await postDeclaredSize(meshd, path, 6 * 1024 * 1024 + 1);
      assert.match(answer, /^HTTP\/1.1 400/, path);
      assert.match(answer, /too large/, path);
    }
    assert.equal((await inject(pod())).allowed, true);
  });

  it('refuses YAML alias bombs in proxy.istio.io/config and sidecar.istio.io/userVolume, quickly', async () => {
    const started = Date.now();
    const r = await inject(pod({ 'proxy.istio.io/config': aliasBomb }));
    assert.equal(r.allowed, false);
    assert.match(r.message!, /alias|Excessive|too many/i);
    const v = await inject(pod({ 'sidecar.istio.io/userVolume': aliasBomb }));
    assert.equal(v.allowed, false);
    assert.ok(Date.now() - started < 5_000, 'answered without expanding the aliases');
  });

  it('keeps annotation text a string: no template evaluation and no extra fields', async () => {
    const image = 'registry.example/evil"\n        securityContext: {privileged: true}\n        x: "{{ .Values.global.hub }}';
    const r = await inject(pod({ 'sidecar.istio.io/proxyImage': image, 'sidecar.istio.io/logLevel': '{{ .Values }}' }));
    assert.equal(r.allowed, true, r.message);
    const proxy = proxyOf(r.ops);
    assert.equal(proxy.image, image);
    assert.notEqual(proxy.securityContext?.privileged, true);
    assert.ok(proxy.args.includes('--proxyLogLevel={{ .Values }}'));
  });

  it('answers a pod with 10,000 labels and one with 100 containers', async () => {
    const labels = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`l${i}`, `v${i}`]));
    assert.equal((await inject(pod({}, labels))).allowed, true);
    const containers = Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, image: 'nginx' }));
    const r = await inject(pod({}, { app: 'many' }, containers));
    assert.equal(r.allowed, true);
    assert.ok(r.ops.some((o) => JSON.stringify(o.value ?? '').includes('istio-proxy')));
  });

  it('cuts off a slow-drip client after the request timeout while serving others', async () => {
    const socket = connect({ host: '127.0.0.1', port: meshd.webhookPort, ca: meshd.ca, servername: 'localhost' });
    await new Promise((r) => socket.once('secureConnect', r));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.on('error', () => undefined);
    const started = Date.now();
    socket.write('POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n');
    const drip = setInterval(() => socket.writable && socket.write('{'), 300);
    try {
      // Others are served meanwhile.
      assert.equal((await inject(pod())).allowed, true);
      const at = await Promise.race([closed, sleep(15_000).then(() => 0)]);
      assert.ok(at > 0, 'the slow client was disconnected');
      assert.ok(at - started >= REQUEST_TIMEOUT_S * 1000 - 200, `not before the timeout (${at - started} ms)`);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });

  it('answers 1,000 concurrent connections correctly', async () => {
    const body = JSON.stringify(pod());
    const agent = new Agent({ maxSockets: 1_000, keepAlive: false, ca: meshd.ca });
    const one = (): Promise<boolean> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: meshd.webhookPort, path: '/inject', method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(res.statusCode === 200 && JSON.parse(Buffer.concat(chunks).toString('utf8')).response.allowed === true));
        });
        req.on('error', reject);
        req.end(body);
      });
    const results = await Promise.all(Array.from({ length: 1_000 }, one));
    agent.destroy();
    assert.equal(results.filter(Boolean).length, 1_000);
  });

  it('is still up and ready, and its heap comes back near the baseline', async () => {
    assert.equal(meshd.child.exitCode, null);
    assert.deepEqual(await getText(meshd.monitoringPort, '/ready'), { status: 200, body: 'ok' });
    let heap = Infinity;
    for (let i = 0; i < 20 && heap > baseline + 64 * 1024 * 1024; i++) {
      await sleep(500);
      heap = await heapUsed();
    }
    assert.ok(heap <= baseline + 64 * 1024 * 1024, `heap ${Math.round(heap / 1048576)} MiB vs baseline ${Math.round(baseline / 1048576)} MiB`);
  });
});
