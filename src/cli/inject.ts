// `meshd inject -f FILE|-`: offline injection of workload YAML, printed to stdout (istioctl kube-inject).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseYamlStream, YamlError } from '../config/yaml.js';
import { kubeInjectYaml } from '../inject/kube-inject.js';
import { SettingsSource } from '../inject/settings-source.js';
import { readObjects } from '../kube/local-source.js';
import { ObjectStore } from '../kube/store.js';
import { isObj } from '../validation/core.js';
import { readText } from './files.js';
import type { CommonOptions } from './options.js';

/**
 * istioctl's --injectConfigFile takes the ConfigMap's `config` (with `templates`) or a bare sidecar
 * template; meshd's --injector-config takes the former. Returns the text as an injector config.
 */
export function asInjectorConfig(text: string): string {
  let doc: unknown;
  try {
    [doc] = parseYamlStream(text, 'injector config');
  } catch {
    doc = undefined; // a template that is not YAML before it is rendered
  }
  if (isObj(doc) && isObj(doc.templates) && Object.keys(doc.templates).length > 0) return text;
  return JSON.stringify({ templates: { sidecar: text } });
}

/** The flag each settings file was given with (meshd's or istioctl's name), for messages. */
export interface SettingsFlags {
  values: string;
  mesh: string;
  injectorConfig: string;
}

const MESHD_FLAGS: SettingsFlags = {
  values: '--values',
  mesh: '--mesh',
  injectorConfig: '--injector-config',
};

/** Reads the operator's files up front, so that a missing file or a YAML mistake names the file. */
function checkSettingsFiles(opts: CommonOptions, flags: SettingsFlags): void {
  for (const [flag, file] of [[flags.values, opts.values], [flags.mesh, opts.mesh]] as const) {
    if (file) parseYamlStream(readText(file, flag), file);
  }
}

export async function runInject(
  file: string,
  out: string | undefined,
  opts: CommonOptions,
  flags = MESHD_FLAGS,
): Promise<number> {
  const input = readText(file, '-f');
  checkSettingsFiles(opts, flags);
  const scratch = mkdtempSync(join(tmpdir(), 'meshd-inject-'));
  try {
    let injectorConfig = opts.injectorConfig;
    if (injectorConfig) {
      const text = readText(injectorConfig, flags.injectorConfig);
      // Only istioctl's flag takes a bare template; meshd's --injector-config is the ConfigMap's config,
      // whose templates may be empty (meshd's built-ins fill them).
      const config = flags.injectorConfig === '--injectConfigFile' ? asInjectorConfig(text) : text;
      if (config !== text) writeFileSync((injectorConfig = join(scratch, 'config.yaml')), config);
    }
    const store = new ObjectStore();
    const warnings: string[] = [];
    const onFileError = (f: string, e: Error): void => {
      warnings.push(e instanceof YamlError ? e.message : `${f}: ${e.message}`);
    };
    if (opts.localDir) store.replaceSource('dir', await readObjects(opts.localDir, onFileError));
    const settings = new SettingsSource({
      ...opts,
      files: { values: opts.values, mesh: opts.mesh, injectorConfig },
      store,
      onError: (what, e) => warnings.push(`${what}: ${e.message}`),
    });
    settings.close();
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    let result: ReturnType<typeof kubeInjectYaml>;
    try {
      result = kubeInjectYaml(input, (pod, ns) => settings.settingsFor(pod, ns, {}));
    } catch (e) {
      // The parser only knows the text as "input": name the file the user gave.
      throw e instanceof YamlError && e.source === 'input' ? e.renamed(file === '-' ? 'stdin' : file) : e;
    }
    for (const w of result.warnings) process.stderr.write(`${w}\n`);
    if (out) writeFileSync(out, result.yaml);
    else process.stdout.write(result.yaml);
    return 0;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
