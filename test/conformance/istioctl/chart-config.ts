// The injector settings as meshd ships them: the istio and istio-sidecar-injector ConfigMaps its Helm chart
// renders with default values (`helm template`), with the chart's `templates: {}` filled in by meshd's
// built-in templates (templates/*.yaml, as meshd itself fills them), so that istioctl, which has no
// built-ins of its own, reads the very templates meshd uses. Written as the three files kube-inject takes.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { builtinTemplates } from '../../../src/config/injector.js';
import { defaultValues, mergeValues, normalizeValuesInput } from '../../../src/config/values.js';
import { scratchDir } from '../../helpers/scratch.js';

const CHART = join(import.meta.dirname, '..', '..', '..', 'charts', 'meshd');

export interface InjectorFiles {
  /** The ConfigMap's `config`, templates filled in (--injectConfigFile / --injector-config). */
  config: string;
  /** The ConfigMap's `values` (--valuesFile / --values). */
  values: string;
  /**
   * The values meshd injects with: the ConfigMap's over meshd's defaults (Istio's chart defaults), as
   * SettingsSource merges them. Since the chart layers istiod's defaults itself, the two rounds mostly agree;
   * this one still shows what meshd's own defaults add.
   */
  effectiveValues: string;
  /** The istio ConfigMap's `mesh` (--meshConfigFile / --mesh). */
  mesh: string;
}

type Doc = { kind?: string; metadata?: { name?: string }; data?: Record<string, string> };

export function chartInjectorFiles(helm: string, dir: string): InjectorFiles {
  const home = scratchDir('meshd-helm-');
  const env = { ...process.env, HELM_CACHE_HOME: join(home, 'c'), HELM_CONFIG_HOME: join(home, 'f'), HELM_DATA_HOME: join(home, 'd') };
  const r = spawnSync(helm, ['template', 'meshd', CHART, '-n', 'istio-system'], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc).filter(Boolean);
  const data = (name: string): Record<string, string> => {
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata?.name === name);
    if (!cm?.data) throw new Error(`the chart renders no ConfigMap ${name}`);
    return cm.data;
  };
  const injector = data('istio-sidecar-injector');
  const config = parse(injector.config ?? '') as Record<string, unknown>;
  config.templates = { ...builtinTemplates(), ...((config.templates as Record<string, string> | null) ?? {}) };
  const files = { config: join(dir, 'inject-config.yaml'), values: join(dir, 'values.json'), effectiveValues: join(dir, 'effective-values.json'), mesh: join(dir, 'mesh.yaml') };
  const effective = mergeValues(defaultValues(), normalizeValuesInput(JSON.parse(injector.values ?? '{}') as Record<string, unknown>));
  writeFileSync(files.effectiveValues, JSON.stringify(effective, null, 2));
  writeFileSync(files.config, stringify(config, { lineWidth: 0 }));
  writeFileSync(files.values, injector.values ?? '');
  writeFileSync(files.mesh, data('istio').mesh ?? '');
  return files;
}
