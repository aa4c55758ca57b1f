import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Lease, V1MutatingWebhookConfiguration, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { namespaceWanted, planConfigMap, ROOT_CERT_CONFIGMAP } from '../../src/controllers/configmap-plan.js';
import { leaseView, mayTakeLease } from '../../src/controllers/leader-election.js';
import { planMutating, planValidating, probeDenied } from '../../src/controllers/webhook-plan.js';
import { WorkQueue } from '../../src/controllers/work-queue.js';

describe('istio-ca-root-cert plan', () => {
  it('creates a missing ConfigMap with the istio.io/config label', () => {
    const a = planConfigMap(undefined, 'ns', ROOT_CERT_CONFIGMAP, 'PEM');
    assert.deepEqual(a, { create: { metadata: { name: 'istio-ca-root-cert', namespace: 'ns', labels: { 'istio.io/config': 'true' } }, data: { 'root-cert.pem': 'PEM' } } });
  });
  it('updates only its own key, keeping what a user added, and leaves a correct one alone', () => {
    const existing = { metadata: { name: 'istio-ca-root-cert', namespace: 'ns', resourceVersion: '7', labels: { mine: 'x' }, annotations: { a: 'b' } }, data: { 'root-cert.pem': 'OLD', extra: 'keep' } };
    const a = planConfigMap(existing, 'ns', ROOT_CERT_CONFIGMAP, 'NEW');
    assert.ok(a && 'update' in a);
    assert.deepEqual(a.update.data, { 'root-cert.pem': 'NEW', extra: 'keep' });
    assert.deepEqual(a.update.metadata, existing.metadata);
    assert.equal(planConfigMap({ ...existing, data: { 'root-cert.pem': 'NEW' } }, 'ns', ROOT_CERT_CONFIGMAP, 'NEW'), undefined);
  });
  it('skips the ignored and terminating namespaces but not kube-system', () => {
    assert.equal(namespaceWanted('kube-public', 'Active'), false);
    assert.equal(namespaceWanted('kube-node-lease', 'Active'), false);
    assert.equal(namespaceWanted('local-path-storage', 'Active'), false);
    assert.equal(namespaceWanted('shop', 'Terminating'), false);
    assert.equal(namespaceWanted('kube-system', 'Active'), true);
    assert.equal(namespaceWanted('shop', undefined), true);
  });
});

describe('webhook configuration plans', () => {
  const hook = (name: string, caBundle?: string) => ({ name, clientConfig: { url: 'https://127.0.0.1/inject', ...(caBundle ? { caBundle } : {}) }, sideEffects: 'None', admissionReviewVersions: ['v1'] });
  it('patches only the injection webhooks, and nothing when they already trust the CA', () => {
    const cfg: V1MutatingWebhookConfiguration = { metadata: { name: 'm' }, webhooks: [hook('namespace.sidecar-injector.istio.io'), hook('other.example.com', 'X')] };
    const next = planMutating(cfg, 'CA')!;
    assert.equal(next.webhooks![0]!.clientConfig.caBundle, 'CA');
    assert.equal(next.webhooks![1]!.clientConfig.caBundle, 'X');
    assert.equal(planMutating(next, 'CA'), undefined);
  });
  it('patches every validation webhook and turns it to Fail only once validation answers', () => {
    const cfg: V1ValidatingWebhookConfiguration = { metadata: { name: 'v' }, webhooks: [{ ...hook('rev.validation.istio.io'), failurePolicy: 'Ignore' }] };
    const early = planValidating(cfg, 'CA', false)!;
    assert.equal(early.webhooks![0]!.failurePolicy, 'Ignore');
    assert.equal(early.webhooks![0]!.clientConfig.caBundle, 'CA');
    assert.equal(planValidating(early, 'CA', false), undefined);
    assert.equal(planValidating(early, 'CA', true)!.webhooks![0]!.failurePolicy, 'Fail');
  });
  it('recognises a denial of the validation probe', () => {
    assert.equal(probeDenied(new Error('admission webhook "rev.validation.istio.io" denied the request: gateway must have at least one server')), true);
    assert.equal(probeDenied({ message: 'HTTP-Code: 400', body: '{"message":"admission webhook \\"x\\" denied the request: bad"}' }), true);
    assert.equal(probeDenied(new Error('connection refused')), false);
  });
});

describe('lease takeover', () => {
  const lease = (holder: string, seconds = 30): V1Lease => ({ spec: { holderIdentity: holder, leaseDurationSeconds: seconds, renewTime: new Date('2026-01-01T00:00:00Z') as never } });
  it('takes a free or own lease at once and another holder only after a full unrenewed duration', () => {
    assert.equal(mayTakeLease(leaseView(lease('')), 'me', 1000, 1000), true);
    assert.equal(mayTakeLease(leaseView(lease('me')), 'me', 1000, 1000), true);
    assert.equal(mayTakeLease(leaseView(lease('you')), 'me', 1000, 30_999), false);
    assert.equal(mayTakeLease(leaseView(lease('you')), 'me', 1000, 31_000), true);
  });
  it('sees a renewal as a change', () => {
    const a = leaseView(lease('you'));
    const b = leaseView({ spec: { ...lease('you').spec, renewTime: new Date('2026-01-01T00:00:07Z') as never } });
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.equal(a.durationMs, 30_000);
  });
});

describe('work queue', () => {
  const options = (dropped: string[]) => ({ concurrency: 2, maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5, onDrop: (k: string) => dropped.push(k) });
  it('runs a key once however often it is added while waiting, and again if added while running', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(async (k) => {
      runs.push(k);
      if (runs.length === 1) await gate;
    }, { ...options([]), concurrency: 1 });
    q.add('a'); // starts at once and blocks
    q.add('b');
    q.add('b');
    q.add('c');
    await sleep(5);
    q.add('a'); // while running: runs once more afterwards
    q.add('c'); // already waiting: no second run
    release();
    await q.idle();
    assert.deepEqual(runs, ['a', 'b', 'c', 'a']);
  });
  it('retries a failing key with backoff and drops it after the limit', async () => {
    const dropped: string[] = [];
    let calls = 0;
    const q = new WorkQueue(async () => {
      calls++;
      throw new Error('boom');
    }, options(dropped));
    q.add('x');
    await q.idle();
    assert.equal(calls, 3);
    assert.deepEqual(dropped, ['x']);
  });
});
