// meshd's own injection goldens: each test/golden/inject/NAME.yaml goes through the real `meshd inject`
// command (with NAME.args as extra flags) and must print NAME.yaml.injected exactly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertGolden } from '../helpers/golden.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'test', 'golden', 'inject');
const inputs = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && !f.endsWith('.values.yaml')).sort();

describe('injection goldens (meshd inject)', () => {
  for (const input of inputs) {
    it(input, () => {
      const argsFile = join(DIR, input.replace(/\.yaml$/, '.args'));
      const extra = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').trim().split(/\s+/) : [];
      const r = spawnSync(process.execPath, ['bin/meshd.js', 'inject', '-f', join('test', 'golden', 'inject', input), ...extra], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, ENABLE_NATIVE_SIDECARS: 'auto', POD_NAMESPACE: '', REVISION: '', COMPLIANCE_POLICY: '', PLATFORM: '' },
      });
      assert.equal(r.status, 0, r.stderr);
      assertGolden(join(DIR, `${input}.injected`), r.stdout + (r.stderr ? `# stderr:\n${r.stderr.replace(/^/gm, '# ')}` : ''));
    });
  }
  it('has no stale goldens', () => {
    for (const f of readdirSync(DIR).filter((x) => x.endsWith('.injected'))) assert.ok(inputs.includes(f.replace(/\.injected$/, '')), `${f} has no input`);
  });
});
