// `meshd validate -f FILE|DIR|-`: validates Istio config offline with the webhook's rules, one line per
// object, and exits non-zero when any object is invalid (istioctl validate).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseYamlStream } from '../config/yaml.js';
import { isObj, str } from '../validation/core.js';
import { ISTIO_GROUPS, validateObject } from '../validation/validate.js';

function files(path: string): string[] {
  if (path === '-') return ['-'];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(path, e.name)) : ['.yaml', '.yml', '.json'].includes(extname(e.name)) ? [join(path, e.name)] : []))
    .sort();
}

export interface ValidateOutput {
  lines: string[];
  invalid: number;
}

/** Validates every object in `text`; objects without a namespace are checked as if in `namespace`. */
export function validateStream(text: string, source: string, namespace: string): ValidateOutput {
  const lines: string[] = [];
  let invalid = 0;
  let docs: unknown[];
  try {
    docs = parseYamlStream(text, source);
  } catch (e) {
    return { lines: [`✘ ${source}: ${(e as Error).message}`], invalid: 1 };
  }
  const objects = docs.flatMap((d) => (isObj(d) && d.kind === 'List' && Array.isArray(d.items) ? d.items : [d]));
  for (const o of objects) {
    if (!isObj(o)) {
      lines.push(`✘ ${source}: not an object: ${JSON.stringify(o).slice(0, 80)}`);
      invalid++;
      continue;
    }
    const meta = isObj(o.metadata) ? o.metadata : {};
    const ns = str(meta.namespace) || namespace;
    const id = `${str(o.kind) || '<no kind>'} ${ns}/${str(meta.name)}`;
    const group = str(o.apiVersion).split('/').slice(0, -1).join('/');
    if (!ISTIO_GROUPS.includes(group)) {
      lines.push(`- ${id}: not an Istio resource, skipped`);
      continue;
    }
    const verdict = validateObject({ ...o, metadata: { ...meta, namespace: ns } });
    if (verdict.allowed) {
      lines.push(`✔ ${id}`);
      for (const w of verdict.warnings) lines.push(`  warning: ${w}`);
    } else {
      lines.push(`✘ ${id}: ${verdict.message}`);
      invalid++;
    }
  }
  return { lines, invalid };
}

export function runValidate(path: string, namespace: string): number {
  let invalid = 0;
  for (const f of files(path)) {
    const out = validateStream(readFileSync(f === '-' ? 0 : f, 'utf8'), f === '-' ? 'stdin' : f, namespace);
    for (const l of out.lines) process.stdout.write(`${l}\n`);
    invalid += out.invalid;
  }
  if (invalid > 0) process.stderr.write(`${invalid} invalid object${invalid === 1 ? '' : 's'}\n`);
  return invalid > 0 ? 1 : 0;
}
