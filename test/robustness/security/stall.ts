// One request must not stall everything (security item 2). Against a running `meshd serve`: each worst-case
// review of test/helpers/hostile-reviews (one list or map as long as a large body allows) is answered
// correctly within a generous bound; /healthz answers while a review that needs seconds is in flight; such a
// review gets a deadline error and its worker is replaced while the server goes on; a full queue is refused
// at once. Bounds are liveness checks, far above the measured times (bench/stall.ts has the figures).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostileReviews, proxyMetadataAnnotation } from '../../helpers/hostile-reviews.js';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { getText, post } from '../../helpers/servers.js';

const ARGS = ['--local-dir', 'test/fixtures/local', '--native-sidecars', 'false'];

const podReview = (uid: string, annotations: Record<string, string> = {}): string => JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid, namespace: 'shop', operation: 'CREATE', object: { metadata: { name: 'web', namespace: 'shop', annotations }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
});

/** A review that needs seconds of work however fast the machine: a 4 MiB proxy.istio.io/config annotation. */
const slowReview = (uid: string): string => podReview(uid, { 'proxy.istio.io/config': proxyMetadataAnnotation(300_000) });

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

describe('security: one request stalls everything', () => {
  let meshd: MeshdProcess;
  let strict: MeshdProcess;
  before(async () => {
    meshd = await startMeshd(ARGS);
    // One worker, one queue place and a short deadline, so that the limits are reached on purpose.
    strict = await startMeshd(ARGS, { MESHD_ADMISSION_WORKERS: '1', MESHD_ADMISSION_QUEUE: '1', MESHD_ADMISSION_DEADLINE: '500ms' });
  });
  after(async () => {
    await meshd?.close();
    await strict?.close();
  });

  test('answers each worst-case review correctly within 10 s', async () => {
    for (const r of hostileReviews(0.5)) {
      const { value, ms } = await timed(() => post(meshd, r.path, r.body));
      assert.equal(value.status, 200, r.name);
      const resp = value.json().response;
      assert.equal(resp.allowed, r.allowed, `${r.name}: ${resp.status?.message?.slice(0, 300)}`);
      assert.ok(ms < 10_000, `${r.name} answered in ${ms.toFixed(0)} ms`);
    }
  });

  test('reports at most 1,000 errors for an object whose every pair of hosts is a duplicate', async () => {
    const r = hostileReviews(0.5).find((x) => x.name.includes('copies of one host'))!;
    const message: string = (await post(meshd, r.path, r.body)).json().response.status.message;
    assert.match(message, /^configuration is invalid: 1001 errors occurred:\n\t\* duplicate hosts in virtual service: a\.com & a\.com/);
    assert.match(message, /further errors not reported/);
  });

  test('serves /healthz while a slow review runs, then answers the review with a deadline error', async () => {
    const slow = post(strict, '/inject', slowReview('slow-1'));
    const probes: number[] = [];
    let done = false;
    void slow.finally(() => (done = true));
    while (!done) {
      const { value, ms } = await timed(() => getText(strict.monitoringPort, '/healthz'));
      assert.equal(value.status, 200);
      probes.push(ms);
      await new Promise((r) => setTimeout(r, 50));
    }
    const resp = (await slow).json().response;
    assert.equal(resp.uid, 'slow-1');
    assert.equal(resp.allowed, false);
    assert.match(resp.status.message, /not answered within the 500 ms deadline/);
    assert.ok(probes.length > 0 && Math.max(...probes) < 2_000, `health probes took up to ${Math.max(...probes).toFixed(0)} ms`);
  });

  test('keeps serving after a review was stopped at the deadline', async () => {
    await post(strict, '/inject', slowReview('slow-2'));
    // The replacement worker takes a moment to load; until then reviews are refused as overload.
    let resp;
    for (const until = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
      resp = (await post(strict, '/inject', podReview('after'))).json().response;
      if (resp.allowed || Date.now() > until) break;
      assert.match(resp.status.message, /overloaded/);
    }
    assert.equal(resp.allowed, true, resp.status?.message);
    assert.ok(resp.patch, 'injected by the replacement worker');
    assert.equal((await getText(strict.monitoringPort, '/healthz')).status, 200);
  });

  test('refuses a review at once when the queue is full', async () => {
    const busy = post(strict, '/inject', slowReview('busy'));
    await new Promise((r) => setTimeout(r, 100));
    const queued = post(strict, '/inject', podReview('queued'));
    await new Promise((r) => setTimeout(r, 100));
    const { value, ms } = await timed(() => post(strict, '/inject', podReview('refused')));
    const resp = value.json().response;
    assert.equal(resp.allowed, false);
    assert.equal(resp.uid, 'refused');
    assert.equal(resp.status.code, 429);
    assert.match(resp.status.message, /overloaded/);
    assert.ok(ms < 2_000, `refused in ${ms.toFixed(0)} ms`);
    await Promise.all([busy, queued]);
  });
});
