import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruCache } from '../../src/cache/lru.js';
import { xdsOptions } from '../../src/cli/options.js';

describe('LruCache', () => {
  it('keeps at most its entry count, dropping the least recently used', () => {
    const c = new LruCache<string>(3, 1_000);
    for (const k of ['a', 'b', 'c']) c.set(k, k);
    assert.equal(c.get('a'), 'a'); // a is now the most recent
    c.set('d', 'd');
    assert.equal(c.size, 3);
    assert.equal(c.get('b'), undefined);
    assert.deepEqual(['a', 'c', 'd'].map((k) => c.get(k)), ['a', 'c', 'd']);
    assert.equal(c.evictions, 1);
  });

  it('keeps its entries within the cost budget and refuses an entry costlier than all of it', () => {
    const c = new LruCache<number[]>(100, 10, (k, v) => k.length + v.length);
    c.set('a', [1, 2, 3, 4]); // 5
    c.set('b', [1, 2, 3, 4]); // 5
    assert.equal(c.held, 10);
    c.set('c', [1]); // 2: a goes
    assert.deepEqual([c.has('a'), c.has('b'), c.has('c')], [false, true, true]);
    assert.equal(c.held, 7);
    c.set('huge', Array.from({ length: 20 }, () => 0));
    assert.equal(c.has('huge'), false);
    assert.equal(c.held, 7);
  });

  it('replacing an entry counts its cost once', () => {
    const c = new LruCache<string>(10, 100);
    c.set('k', 'xxxx');
    c.set('k', 'yy');
    assert.equal(c.held, 3);
    assert.equal(c.size, 1);
  });

  it('stores null (a cached "none") but nothing with no room at all', () => {
    const c = new LruCache<string | null>(1, 100);
    c.set('none', null);
    assert.equal(c.get('none'), null);
    const off = new LruCache<string>(0, 100);
    off.set('a', 'a');
    assert.equal(off.size, 0);
  });
});

describe('xDS limits from the environment', () => {
  it('reads istiod\'s PILOT_XDS_CACHE_SIZE and PILOT_XDS_SEND_TIMEOUT, and meshd\'s MESHD_XDS_MAX_NAMES', () => {
    assert.deepEqual(xdsOptions({}), { cacheSize: 60_000, sendTimeoutMs: 30_000, maxNames: 65_536 });
    assert.deepEqual(xdsOptions({ PILOT_XDS_CACHE_SIZE: '500', PILOT_XDS_SEND_TIMEOUT: '2.5s', MESHD_XDS_MAX_NAMES: '10' }), { cacheSize: 500, sendTimeoutMs: 2_500, maxNames: 10 });
    // As in istiod: a cache size of 0 or less means 20,000, and a send timeout of 0 turns it off.
    assert.equal(xdsOptions({ PILOT_XDS_CACHE_SIZE: '0' }).cacheSize, 20_000);
    assert.equal(xdsOptions({ PILOT_XDS_SEND_TIMEOUT: '0s' }).sendTimeoutMs, 0);
    assert.throws(() => xdsOptions({ PILOT_XDS_SEND_TIMEOUT: 'soon' }), /PILOT_XDS_SEND_TIMEOUT/);
    assert.throws(() => xdsOptions({ MESHD_XDS_MAX_NAMES: '0' }), /MESHD_XDS_MAX_NAMES/);
    assert.throws(() => xdsOptions({ PILOT_XDS_CACHE_SIZE: 'lots' }), /PILOT_XDS_CACHE_SIZE/);
  });
});
