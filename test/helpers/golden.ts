// Golden files: compared byte for byte; REFRESH_GOLDEN=1 rewrites them instead.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function assertGolden(path: string, actual: string): void {
  if (process.env.REFRESH_GOLDEN === '1') {
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `golden file ${path} is missing; run the tests with REFRESH_GOLDEN=1 to create it`);
  assert.equal(actual, readFileSync(path, 'utf8'), `output differs from ${path}; if the change is intended, rerun with REFRESH_GOLDEN=1`);
}
