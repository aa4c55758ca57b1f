// The CLI's pure parts: durations and ports from flags, when `serve` uses a cluster, and istioctl's
// bare --injectConfigFile template.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asInjectorConfig, runInject } from '../../src/cli/inject.js';
import { commonOptions, portFlag, secondsOrDurationMs } from '../../src/cli/options.js';
import { clusterWanted } from '../../src/cli/serve.js';

describe('--shutdown-delay: a Go duration, or seconds as a plain number', () => {
  const cases: Array<{ input: string | undefined; want: number | RegExp }> = [
    { input: undefined, want: 5000 },
    { input: '5', want: 5000 },
    { input: '2.5', want: 2500 },
    { input: '0', want: 0 },
    { input: '5s', want: 5000 },
    { input: '1m30s', want: 90_000 },
    { input: '500ms', want: 500 },
    { input: '0s', want: 0 },
    { input: '5 s', want: /--shutdown-delay must be a positive duration/ },
    { input: '-1', want: /--shutdown-delay/ },
    { input: 'soon', want: /--shutdown-delay/ },
  ];
  for (const c of cases) {
    it(String(c.input), () => {
      const run = (): number => secondsOrDurationMs(c.input, 5000, '--shutdown-delay');
      if (c.want instanceof RegExp) assert.throws(run, c.want);
      else assert.equal(run(), c.want);
    });
  }
});

describe('port flags', () => {
  const cases: Array<{ input: string | undefined; want: number | RegExp }> = [
    { input: undefined, want: 15017 },
    { input: '0', want: 0 },
    { input: '65535', want: 65535 },
    { input: '', want: /port number/ },
    { input: '65536', want: /port number/ },
    { input: '0x10', want: /port number/ },
    { input: '1e3', want: /port number/ },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.input), () => {
      const run = (): number => portFlag(c.input, 15017, '--webhook-port');
      if (c.want instanceof RegExp) assert.throws(run, c.want);
      else assert.equal(run(), c.want);
    });
  }
});

describe('serve talks to a cluster', () => {
  const cases = [
    { name: 'no flags: KUBECONFIG or in-cluster decide', opts: {}, want: true },
    { name: '--kubeconfig', opts: { kubeconfig: 'k' }, want: true },
    { name: '--local-dir: local mode', opts: { localDir: 'd' }, want: false },
    { name: '--local-dir and --kubeconfig', opts: { localDir: 'd', kubeconfig: 'k' }, want: true },
  ];
  for (const c of cases) it(c.name, () => assert.equal(clusterWanted(c.opts), c.want));
});

describe("--injectConfigFile: the ConfigMap's config, or a bare sidecar template (as istioctl reads it)", () => {
  const bare = 'spec:\n  containers:\n  - name: istio-proxy\n';
  const cases = [
    { name: 'config with templates', input: 'policy: enabled\ntemplates:\n  sidecar: |\n    spec: {}\n', want: 'same' },
    { name: 'a bare template', input: bare, want: JSON.stringify({ templates: { sidecar: bare } }) },
    { name: 'a template that is not YAML before rendering', input: '{{ if .X }}\n a: [\n{{ end }}', want: 'wrapped' },
    { name: 'empty templates', input: 'templates: {}\n', want: 'wrapped' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = asInjectorConfig(c.input);
      if (c.want === 'same') assert.equal(out, c.input);
      else if (c.want === 'wrapped') assert.deepEqual(JSON.parse(out), { templates: { sidecar: c.input } });
      else assert.equal(out, c.want);
    });
  }
});

describe("--injector-config stays the ConfigMap's config (no bare-template reading)", () => {
  it('meshd inject with a config without templates injects with meshd\'s templates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshd-injcfg-'));
    try {
      const config = join(dir, 'config.yaml');
      writeFileSync(config, 'policy: enabled\ninjectedAnnotations: {}\ntemplates: {}\n');
      const pod = join(dir, 'pod.yaml');
      writeFileSync(pod, 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: x}]}\n');
      const out = join(dir, 'out.yaml');
      await runInject(pod, out, commonOptions({ 'injector-config': config }, { ENABLE_NATIVE_SIDECARS: 'false' }));
      const text = readFileSync(out, 'utf8');
      assert.match(text, /name: istio-proxy/);
      assert.doesNotMatch(text, /injectedAnnotations/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('native sidecar mode: the flag checked, ENABLE_NATIVE_SIDECARS read as istiod reads it', () => {
  const rows: Array<{ name: string; flag?: string; env?: string; want: string | RegExp }> = [
    { name: 'neither: auto', want: 'auto' },
    { name: 'env true', env: 'true', want: 'true' },
    { name: 'env empty: false, as istiod', env: '', want: 'false' },
    { name: 'env TRUE: false, as istiod', env: 'TRUE', want: 'false' },
    { name: 'flag wins over env', flag: 'true', env: 'false', want: 'true' },
    { name: 'flag TRUE refused', flag: 'TRUE', want: /--native-sidecars must be auto, true or false/ },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const flags = row.flag === undefined ? {} : { 'native-sidecars': row.flag };
      const env = row.env === undefined ? {} : { ENABLE_NATIVE_SIDECARS: row.env };
      const write = process.stderr.write;
      process.stderr.write = () => true; // the warning istiod logs for an unknown value
      try {
        if (row.want instanceof RegExp) assert.throws(() => commonOptions(flags, env), row.want);
        else assert.equal(commonOptions(flags, env).nativeSidecars, row.want);
      } finally {
        process.stderr.write = write;
      }
    });
  }
});
