import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseYaml } from '../../src/config/yaml.js';

// Found by test/fuzz: a map used as a key (template syntax in an annotation) made the YAML library emit a
// process warning on every request that carried it.
it('parses user text with collection keys without process warnings', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    assert.deepEqual(parseYaml('{{ .Values }}', 'annotation'), { '{ .Values }': null });
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings, []);
});
