// Reviews worked out in admission worker threads get the answers, and leave the metrics, that inline work
// does: the same bodies (good, skipped, denied, malformed, hostile) go to a webhook of each kind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { pooledRunner } from '../../src/server/admission-runner.js';
import { WORKER_NICE } from '../../src/server/thread-priority.js';
import { hostileReviews } from '../helpers/hostile-reviews.js';
import { getText, post, startServers, type TestServers } from '../helpers/servers.js';
import { testSettings } from '../helpers/settings.js';

const settings = testSettings();
const provider = (_p: unknown, _n: string, envs: Record<string, string>) => ({ ...settings, proxyEnvs: envs });

const review = (uid: string, object: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, namespace: 'shop', operation: 'CREATE', object, ...extra } });
const pod = (annotations: Record<string, string> = {}, labels: Record<string, string> = {}) => ({ metadata: { name: 'web', namespace: 'shop', annotations, labels }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
const vs = (spec: unknown) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'v', namespace: 'shop' }, spec });
const resource = { resource: { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' } };

const bodies: Array<[string, string]> = [
  ['/inject', review('good', pod())],
  ['/inject', review('good-again', pod())],
  ['/inject/cluster/c1/net/n1', review('url-env', pod())],
  ['/inject', review('skipped', pod({ 'sidecar.istio.io/inject': 'false' }))],
  ['/inject', review('bad-annotation', pod({ 'sidecar.istio.io/proxyCPU': 'lots' }))],
  ['/inject', review('no-pod', 'a string')],
  ['/inject', '{"apiVersion":'],
  ['/inject', `{"request":{"uid":"d","object":${'['.repeat(300)}${']'.repeat(300)}}}`],
  ['/validate', review('valid', vs({ hosts: ['a'], http: [{ route: [{ destination: { host: 'a' } }] }] }), resource)],
  ['/validate', review('invalid', vs({ hosts: ['a', 'a'], http: [{ route: [{ destination: { host: 'a' } }] }] }), resource)],
  ['/validate', review('dry-run', vs({ hosts: [] }), { ...resource, dryRun: true })],
  ['/validate', review('delete', vs({}), { operation: 'DELETE' })],
  ['/validate', 'not json'],
  ...hostileReviews(0.02).map((h): [string, string] => [h.path, h.body]),
];

const counters = (metrics: string): string[] => metrics.split('\n').filter((l) => /^(sidecar_injection_(requests|success|failure|skip)_total|galley_validation_\w+)[{ ]/.test(l));

describe('admission worker threads', () => {
  let inline: TestServers;
  let pooled: TestServers;
  before(async () => {
    inline = await startServers(provider);
    const runner = pooledRunner({ size: 2, deadlineMs: 20_000, maxQueue: 64 });
    await runner.ready();
    pooled = await startServers(provider, undefined, runner);
  });
  after(async () => {
    await inline?.close();
    await pooled?.close();
  });

  it('run at a lower priority than the main thread (Linux: a nice value per thread)', { skip: process.platform !== 'linux' }, () => {
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value (after the parenthesised name).
    const niceOf = (tid: string): number => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const tids = readdirSync('/proc/self/task');
    assert.equal(niceOf(String(process.pid)), 0, 'the main thread keeps its priority');
    // Two workers, each with the threads it started.
    assert.ok(tids.filter((t) => niceOf(t) === WORKER_NICE).length >= 2, `thread nice values: ${tids.map(niceOf).join(',')}`);
  });

  it('answer every review as inline work does', async () => {
    for (const [path, body] of bodies) {
      const [a, b] = [await post(inline, path, body), await post(pooled, path, body)];
      assert.equal(b.status, a.status, `${path} ${body.slice(0, 80)}`);
      assert.equal(b.body, a.body, `${path} ${body.slice(0, 80)}`);
    }
  });

  it('leave the same metrics in the main thread', async () => {
    const [a, b] = [(await getText(inline.monitoringPort, '/metrics')).body, (await getText(pooled.monitoringPort, '/metrics')).body];
    assert.ok(counters(a).length >= 5);
    assert.deepEqual(counters(b), counters(a));
  });

  it('answer concurrent reviews', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(pooled, '/inject', review(`c${i}`, pod({}, { n: String(i) })))));
    for (const [i, r] of answers.entries()) {
      assert.equal(r.json().response.uid, `c${i}`);
      assert.equal(r.json().response.allowed, true);
    }
  });
});
