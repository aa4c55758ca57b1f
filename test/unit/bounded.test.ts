// Calls made for untrusted callers: bounded in number and answered within a deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bounded, LimitError } from '../../src/util/bounded.js';

describe('bounded calls', () => {
  it('refuses a call past the in-flight limit at once, and takes calls again when slots free', async () => {
    const release: Array<() => void> = [];
    const slow = bounded(() => new Promise<string>((r) => release.push(() => r('done'))), { maxInFlight: 2, timeoutMs: 10_000, what: 'X' });
    const a = slow();
    const b = slow();
    await assert.rejects(slow(), (e) => e instanceof LimitError && /too many X requests in flight \(2\)/.test(e.message));
    release.shift()!();
    assert.equal(await a, 'done');
    const c = slow();
    release.forEach((r) => r());
    release.length = 0;
    assert.deepEqual(await Promise.all([b, c]), ['done', 'done']);
  });

  it('gives up on a call that does not answer within the deadline, keeping its slot until it settles', async () => {
    let finish: () => void = () => undefined;
    const hung = bounded(() => new Promise<void>((r) => (finish = r)), { maxInFlight: 1, timeoutMs: 50, what: 'Y' });
    await assert.rejects(hung(), (e) => e instanceof LimitError && /Y did not answer within 50 ms/.test(e.message));
    await assert.rejects(hung(), /too many Y requests/);
    finish();
    await new Promise((r) => setImmediate(r));
    await assert.rejects(hung(), /did not answer/); // the slot is free again
    finish();
  });

  it('passes results and errors through', async () => {
    const f = bounded(async (x: number) => {
      if (x < 0) throw new Error('negative');
      return x * 2;
    }, { maxInFlight: 5, timeoutMs: 1_000, what: 'Z' });
    assert.equal(await f(4), 8);
    await assert.rejects(f(-1), /negative/);
  });
});
