// The xDS part's comparison (test/conformance/istiod/xds-compare.ts): what its normalisation forgives and
// what it must still report, one row per behaviour.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareDumps, leafAgreement, normalise, xdsDiffClass, type Dump } from '../conformance/istiod/xds-compare.js';

const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

const dumpOf = (type: string, resources: Record<string, unknown>): Dump =>
  ({ resources: { [type]: resources }, invalid: {}, missing: {}, responses: 1, errors: [] });

describe('xDS comparison', () => {
  const rows: Array<{ name: string; type: string; meshd: unknown; istiod: unknown; identical: boolean }> = [
    { name: 'filter chains in another order are the same listener', type: LDS,
      meshd: { filterChains: [{ name: 'a' }, { name: 'b' }] }, istiod: { filterChains: [{ name: 'b' }, { name: 'a' }] }, identical: true },
    { name: 'domains and virtual hosts in another order are the same routes', type: RDS,
      meshd: { virtualHosts: [{ name: 'x', domains: ['b', 'a'] }, { name: 'y' }] },
      istiod: { virtualHosts: [{ name: 'y' }, { name: 'x', domains: ['a', 'b'] }] }, identical: true },
    { name: 'routes in another order differ (Envoy takes the first match)', type: RDS,
      meshd: { virtualHosts: [{ name: 'x', routes: [{ name: '1' }, { name: '2' }] }] },
      istiod: { virtualHosts: [{ name: 'x', routes: [{ name: '2' }, { name: '1' }] }] }, identical: false },
    { name: 'listener filters in another order differ', type: LDS,
      meshd: { listenerFilters: [{ name: 'tls' }, { name: 'http' }] }, istiod: { listenerFilters: [{ name: 'http' }, { name: 'tls' }] }, identical: false },
    { name: 'certificate bytes do not count', type: LDS,
      meshd: { ca: { inlineString: '-----BEGIN CERTIFICATE-----\nAAA' } }, istiod: { ca: { inlineString: '-----BEGIN CERTIFICATE-----\nBBB' } }, identical: true },
    { name: 'a missing field differs', type: LDS, meshd: { name: 'l' }, istiod: { name: 'l', listenerFiltersTimeout: '0s' }, identical: false },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const [r] = compareDumps(dumpOf(row.type, { n: row.meshd }), dumpOf(row.type, { n: row.istiod })).filter((x) => x.total > 0);
      assert.equal(r!.identical, row.identical ? 1 : 0, JSON.stringify(r!.diffs.get('n')));
    });
  }

  it('counts resources only one side sent, under their type', () => {
    const results = compareDumps(dumpOf(LDS, { a: {}, b: {} }), dumpOf(LDS, { b: {}, c: {} }));
    const l = results.find((r) => r.type === 'Listener')!;
    assert.deepEqual([l.total, l.identical, l.onlyMeshd, l.onlyIstiod], [3, 1, ['a'], ['c']]);
  });

  it('names a difference class by type and field path, indices generalised', () => {
    assert.equal(xdsDiffClass('Listener', '.filterChains[3].filters[0].name: got "a" want "b"'), 'Listener.filterChains[].filters[].name');
  });

  it('leaves scalars and ordinary strings alone', () => {
    assert.deepEqual(normalise({ a: 1, b: 'x', c: [2, 1] }), { a: 1, b: 'x', c: [2, 1] });
  });
});

describe('leaf field agreement', () => {
  const rows: Array<{ name: string; a: unknown; b: unknown; want: { total: number; equal: number } }> = [
    { name: 'equal objects agree on every leaf', a: { x: 1, y: { z: 'a' } }, b: { x: 1, y: { z: 'a' } }, want: { total: 2, equal: 2 } },
    { name: 'a field only one side has counts once, unequal', a: { x: 1 }, b: { x: 1, y: 2 }, want: { total: 2, equal: 1 } },
    { name: 'a missing subtree counts its leaves', a: {}, b: { y: { p: 1, q: 2 } }, want: { total: 2, equal: 0 } },
    { name: 'lists compare by index', a: { l: [1, 2] }, b: { l: [1, 3] }, want: { total: 2, equal: 1 } },
  ];
  for (const row of rows) it(row.name, () => assert.deepEqual(leafAgreement(row.a, row.b), row.want));
});
