// `meshd inject -f FILE|-`: offline injection of workload YAML, printed to stdout (istioctl kube-inject).
import { readFileSync, writeFileSync } from 'node:fs';
import { kubeInjectYaml } from '../inject/kube-inject.js';
import { SettingsSource } from '../inject/settings-source.js';
import { readObjects } from '../kube/local-source.js';
import { ObjectStore } from '../kube/store.js';
import type { CommonOptions } from './options.js';

export async function runInject(file: string, out: string | undefined, opts: CommonOptions): Promise<number> {
  const store = new ObjectStore();
  const errors: string[] = [];
  if (opts.localDir) store.replaceSource('dir', await readObjects(opts.localDir, (f, e) => errors.push(`${f}: ${e.message}`)));
  const settings = new SettingsSource({
    ...opts,
    files: { values: opts.values, mesh: opts.mesh, injectorConfig: opts.injectorConfig },
    store,
    onError: (what, e) => errors.push(`${what}: ${e.message}`),
  });
  settings.close();
  for (const e of errors) process.stderr.write(`warning: ${e}\n`);
  const input = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  const { yaml, warnings } = kubeInjectYaml(input, (pod, ns) => settings.settingsFor(pod, ns, {}));
  for (const w of warnings) process.stderr.write(`${w}\n`);
  if (out) writeFileSync(out, yaml);
  else process.stdout.write(yaml);
  return 0;
}
