// The injector configuration: policy, selectors, templates and aliases. Either read from the `config`
// key of an istio-sidecar-injector ConfigMap (Istio's format), or derived from Helm values the way the
// istiod chart renders that ConfigMap, with meshd's built-in templates.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InjectorConfig, InjectorValues, LabelSelector } from '../types.js';
import { parseYamlObject } from './yaml.js';

const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

let builtins: Record<string, string> | undefined;

/** meshd's own injection templates (templates/*.yaml), keyed by file name without extension. */
export function builtinTemplates(): Record<string, string> {
  if (!builtins) {
    builtins = {};
    const files = readdirSync(TEMPLATES_DIR).sort();
    // Shared definitions (_*.tpl) go in front of every template, as Helm does with _helpers.tpl.
    const helpers = files.filter((f) => f.startsWith('_') && f.endsWith('.tpl')).map((f) => readFileSync(join(TEMPLATES_DIR, f), 'utf8'));
    for (const f of files) {
      if (f.endsWith('.yaml')) builtins[f.slice(0, -'.yaml'.length)] = [...helpers, readFileSync(join(TEMPLATES_DIR, f), 'utf8')].join('');
    }
  }
  return builtins;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function stringList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${what} must be a list of strings`);
  return v as string[];
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new Error(`${what} must be a map`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(record(v))) {
    if (typeof val !== 'string') throw new Error(`${what}.${k} must be a string`);
    out[k] = val;
  }
  return out;
}

function selectors(v: unknown, what: string): LabelSelector[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${what} must be a list of label selectors`);
  return v.map((s) => record(s) as LabelSelector);
}

/** The fields the ConfigMap's `config` and the chart's `sidecarInjectorWebhook` values share. */
function configFrom(src: Record<string, unknown>, prefix: string, policy: unknown, templates: Record<string, string>, aliases: Record<string, string[]>): InjectorConfig {
  const defaults = stringList(src.defaultTemplates, `${prefix}defaultTemplates`);
  return {
    policy: typeof policy === 'string' ? policy : 'enabled',
    alwaysInjectSelector: selectors(src.alwaysInjectSelector, `${prefix}alwaysInjectSelector`),
    neverInjectSelector: selectors(src.neverInjectSelector, `${prefix}neverInjectSelector`),
    injectedAnnotations: stringMap(src.injectedAnnotations, `${prefix}injectedAnnotations`),
    templates,
    defaultTemplates: defaults.length > 0 ? defaults : ['sidecar'],
    aliases,
  };
}

/** Parses the `config` key of an istio-sidecar-injector ConfigMap. */
export function injectorConfigFromYaml(text: string): InjectorConfig {
  const c = parseYamlObject(text, 'injector config');
  const templates = stringMap(c.templates, 'templates');
  // Istio's legacy single `template` is the sidecar template unless `templates` has one.
  if (typeof c.template === 'string' && !templates.sidecar && !c.template.includes('Template_Version_And_Istio_Version_Mismatched')) {
    templates.sidecar = c.template;
  }
  const aliases: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(record(c.aliases))) aliases[k] = stringList(v, `aliases.${k}`);
  // Templates the config does not carry come from meshd's built-ins, so a chart need not ship them.
  return configFrom(c, '', c.policy, { ...builtinTemplates(), ...templates }, aliases);
}

/** The config the istiod chart would render from these values, with meshd's built-in templates. */
export function injectorConfigFromValues(values: InjectorValues): InjectorConfig {
  const sw = record(values.sidecarInjectorWebhook);
  const templates = { ...builtinTemplates(), ...stringMap(sw.templates, 'sidecarInjectorWebhook.templates') };
  return configFrom(sw, 'sidecarInjectorWebhook.', record(record(values.global).proxy).autoInject, templates, {});
}
