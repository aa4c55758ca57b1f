// The score ratchet: lower fails, higher raises the floor (outside CI), other inputs need recording.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { headlineScores, ratchet } from '../conformance/floors.js';
import { scratchDir } from '../helpers/scratch.js';

const floors = (floor: number, of: number): string => {
  const file = join(scratchDir('meshd-floors-'), 'floors.json');
  writeFileSync(file, JSON.stringify({ p: { 'things agree': { floor, of } } }));
  return file;
};
const read = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('score floors', () => {
  it('reads unindented N/M headlines only, without their details', () => {
    assert.deepEqual(headlineScores(['5/9 things agree (2 skipped)', '  3/4 detail', 'noise']), [{ key: 'things agree', n: 5, m: 9 }]);
  });

  it('fails a score below its floor, in CI or not', () => {
    for (const env of [{ CI: 'true' }, {}]) {
      const problems = ratchet('p', ['4/9 things agree'], env, floors(5, 9));
      assert.match(problems.join('\n'), /fell to 4\/9, below its floor 5/);
    }
  });

  it('raises the floor outside CI, and only reports the rise in CI', () => {
    const local = floors(5, 9);
    assert.deepEqual(ratchet('p', ['7/9 things agree'], {}, local), []);
    assert.deepEqual(read(local), { p: { 'things agree': { floor: 7, of: 9 } } });
    const ci = floors(5, 9);
    assert.deepEqual(ratchet('p', ['7/9 things agree'], { CI: 'true' }, ci), []);
    assert.deepEqual(read(ci), { p: { 'things agree': { floor: 5, of: 9 } } });
  });

  it('wants other inputs and new scores recorded on purpose', () => {
    assert.match(ratchet('p', ['9/10 things agree'], {}, floors(5, 9)).join(), /now counts 10 inputs/);
    assert.match(ratchet('p', ['1/1 new things'], {}, floors(5, 9)).join(), /no floor recorded for "new things"/);
  });
});
