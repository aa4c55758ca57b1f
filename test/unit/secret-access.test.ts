// The SubjectAccessReview cache behind SDS: one review per service account, a grant kept 5 minutes and a
// refusal 1 minute (istiod's), re-asked in the background after that, and each change reported.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { ALLOWED_TTL_MS, DENIED_TTL_MS, SecretAccess } from '../../src/security/secret-access.js';

describe('secret access reviews', () => {
  it('asks once, caches with istiod’s TTLs, refreshes in the background and reports changes', async () => {
    let now = 0;
    let allow = false;
    const asked: string[] = [];
    const changed: string[] = [];
    const access = new SecretAccess(async (ns, sa) => {
      asked.push(`${ns}/${sa}`);
      return { allowed: allow, reason: 'no RBAC' };
    }, (ns, sa) => changed.push(`${ns}/${sa}`), undefined, () => now);
    assert.equal(access.decision('a', 'gw'), undefined, 'unknown at first: asked in the background');
    assert.equal(access.decision('a', 'gw'), undefined);
    await tick();
    assert.deepEqual(asked, ['a/gw'], 'one review in flight');
    assert.deepEqual(access.decision('a', 'gw'), { allowed: false, reason: 'gw/a is not authorized to read secrets: no RBAC' });
    assert.deepEqual(changed, ['a/gw']);
    allow = true;
    now += DENIED_TTL_MS - 1;
    access.decision('a', 'gw');
    await tick();
    assert.equal(asked.length, 1, 'a refusal holds for a minute');
    now += 1;
    assert.equal(access.decision('a', 'gw')?.allowed, false, 'the old answer holds while re-asking');
    await tick();
    assert.equal(access.decision('a', 'gw')?.allowed, true);
    assert.deepEqual(changed, ['a/gw', 'a/gw']);
    now += ALLOWED_TTL_MS - 1;
    access.decision('a', 'gw');
    await tick();
    assert.equal(asked.length, 2, 'a grant holds for five minutes');
  });

  it('treats a failed review as a refusal, and local mode (no API server) as allowed', async () => {
    const access = new SecretAccess(async () => {
      throw new Error('connection refused');
    }, () => undefined);
    access.decision('a', 'gw');
    await tick();
    await tick();
    assert.deepEqual(access.decision('a', 'gw'), { allowed: false, reason: 'connection refused' });
    assert.deepEqual(new SecretAccess(undefined, () => undefined).decision('a', 'gw'), { allowed: true });
  });
});
