import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml, parseYamlFast, parseYamlStream, YamlError } from '../../src/config/yaml.js';

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

// `meshd inject` and `meshd validate` report where a stream's YAML is wrong, in one line.
describe('YAML errors name the source, line and column', () => {
  const cases: Array<{ name: string; parse: () => unknown; want: RegExp; line?: number; column?: number }> = [
    { name: 'a nested map on the 4th line', parse: () => parseYamlStream('a: 1\nb:\n  c: 2\n  d: e: f\n', 'f.yaml'), want: /^f\.yaml:4:6: /, line: 4, column: 6 },
    { name: 'in a later document', parse: () => parseYamlStream('ok: 1\n---\nx: [1,\n', 's.yaml'), want: /^s\.yaml:\d+:\d+: /, line: 4 },
    { name: 'an unterminated quote', parse: () => parseYamlStream('a: "x\n', 'q.yaml'), want: /^q\.yaml:2:1: Missing closing "quote$/, line: 2, column: 1 },
    { name: 'no position for an unknown alias', parse: () => parseYamlStream('a: *x\n', 'al.yaml'), want: /^al\.yaml: Unresolved alias/ },
    { name: "js-yaml's multi-line message in one line", parse: () => parseYamlFast('a: 1\n  b: [\n', 'template sidecar'), want: /^template sidecar:2:4: bad indentation of a mapping entry$/, line: 2, column: 4 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const err = (() => {
        try {
          c.parse();
        } catch (e) {
          return e as YamlError;
        }
        assert.fail('no error');
      })();
      assert.ok(err instanceof YamlError);
      assert.match(err.message, c.want);
      assert.doesNotMatch(err.message, /\n/);
      if (c.line !== undefined) assert.equal(err.line, c.line);
      if (c.column !== undefined) assert.equal(err.column, c.column);
    });
  }
  it('renamed keeps the position', () => {
    const e = new YamlError('input', 'bad', 3, 7).renamed('pod.yaml');
    assert.equal(e.message, 'pod.yaml:3:7: bad');
  });
});
