// The linear replacements of istiod's quadratic steps give istiod's answers: host matching over a whole list
// (against the pairwise definitions), in-place `append` in templates (against copying), and the bounded
// reports; plus the size of work on long inputs (counted, not timed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { GoTemplate } from '../../src/gotemplate/index.js';
import { MAX_FINDINGS, Report } from '../../src/validation/core.js';
import { forEachMatchingHostPair, subsetChecker } from '../../src/validation/host-index.js';
import { hostsMatch, hostSubsetOf } from '../../src/validation/http-rules.js';
import { validateObject } from '../../src/validation/validate.js';

/** Hosts from a small alphabet, so that suffixes, equal hosts and wildcards overlap often. */
const host = fc.tuple(fc.constantFrom('', '*', '*.'), fc.stringMatching(/^[ab.]{0,5}$/)).map(([w, rest]) => w + rest);

function pairwise(hosts: string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < hosts.length; i++) for (let j = i + 1; j < hosts.length; j++) if (hostsMatch(hosts[i]!, hosts[j]!)) out.push([i, j]);
  return out;
}

describe('host matching over a list', () => {
  it('finds the pairs istiod finds, in its order', () => {
    fc.assert(fc.property(fc.array(host, { maxLength: 30 }), (hosts) => {
      const found: Array<[number, number]> = [];
      forEachMatchingHostPair(hosts, (i, j) => (found.push([i, j]), true));
      assert.deepEqual(found, pairwise(hosts));
    }), { numRuns: 500 });
  });

  it('stops when asked to', () => {
    const found: number[] = [];
    forEachMatchingHostPair(['a', 'a', 'a', 'a'], (i, j) => (found.push(i, j), found.length < 4));
    assert.deepEqual(found, [0, 1, 0, 2]);
  });

  it('tells SNI subsets as hostSubsetOf does', () => {
    fc.assert(fc.property(fc.array(host, { maxLength: 12 }), fc.array(host, { maxLength: 12 }), (hosts, snis) => {
      const covers = subsetChecker(hosts);
      for (const s of snis) assert.equal(covers(s), hosts.some((h) => hostSubsetOf(s, h)), `${s} in ${hosts}`);
    }), { numRuns: 500 });
  });
});

describe('in-place append in templates', () => {
  const run = (text: string): string => GoTemplate.parse('t', text).execute({ items: ['a', 'b', 'c'] });
  it('builds the list a range appends to', () => {
    assert.equal(run('{{ $l := list }}{{ range .items }}{{ $l = append $l . }}{{ end }}{{ join "," $l }}'), 'a,b,c');
  });
  it('leaves a copy taken earlier as it was', () => {
    const t = '{{ $l := list }}{{ $l = append $l 1 }}{{ $k := $l }}{{ $l = append $l 2 }}{{ $l = append $l 3 }}{{ len $k }} {{ len $l }}';
    assert.equal(run(t), '1 3');
  });
  it('leaves a list handed to a function as it was', () => {
    const t = '{{ $l := list }}{{ $l = append $l 1 }}{{ $d := dict "k" $l }}{{ $l = append $l 2 }}{{ len (get $d "k") }} {{ len $l }}';
    assert.equal(run(t), '1 2');
  });
  it('appends a list to itself as a copy', () => {
    assert.equal(run('{{ $l := list 1 }}{{ $l = append $l 2 }}{{ $l = append $l $l }}{{ len $l }} {{ len (index $l 2) }}'), '3 2');
  });
});

describe('bounded reports', () => {
  it('keeps the first 1,000 errors and says that more were left out', () => {
    const r = new Report();
    for (let i = 0; i < 5_000; i++) r.error(`e${i}`);
    assert.equal(r.errors.length, MAX_FINDINGS + 1);
    assert.equal(r.errors[MAX_FINDINGS - 1], `e${MAX_FINDINGS - 1}`);
    assert.match(r.errors[MAX_FINDINGS]!, /further errors not reported/);
    assert.equal(r.errorsFull, true);
  });

  it('denies 100,000 copies of one host with istiod\'s first errors', () => {
    const v = validateObject({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x', namespace: 'ns' }, spec: { hosts: Array(100_000).fill('a.com'), http: [{ route: [{ destination: { host: 'a' } }] }] } });
    assert.equal(v.allowed, false);
    assert.match(v.message!, /^configuration is invalid: 1001 errors occurred:\n\t\* duplicate hosts in virtual service: a\.com & a\.com\n/);
  });

  it('reports overlapping prefixes in istiod\'s order', () => {
    const http = ['/a', '/b', '/ab', '/a/x', '/b/y'].map((p, i) => ({ name: `r${i}`, match: [{ uri: { prefix: p } }], route: [{ destination: { host: 'a' } }] }));
    const v = validateObject({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'x', namespace: 'ns' }, spec: { hosts: ['a'], http } });
    assert.equal(v.allowed, true);
    assert.deepEqual(v.warnings.map((w) => /rule "(r\d)" match #0 of prefix (\S+) .* of prefix (\S+) on "(r\d)"/.exec(w)!.slice(1).join(' ')), [
      'r2 /ab /a r0', 'r3 /a/x /a r0', 'r4 /b/y /b r1',
    ]);
  });
});
