// `meshd validate -f FILE|DIR|-`: validates offline what `istioctl validate` does (Istio config with the
// webhook's rules; IstioOperator objects; Services and Deployments against Istio's requirements), one line
// per object, and exits non-zero when any object is invalid.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parseYamlStream, YamlError } from '../config/yaml.js';
import { isObj, joinErrors, str, type Obj } from '../validation/core.js';
import { deploymentFindings, istioOperatorFindings, serviceErrors, unknownSpecField } from '../validation/istioctl.js';
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

const ISTIO_OPERATOR_API = 'install.istio.io/v1alpha1';
const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

/** The verdict istioctl validate gives one object, or undefined when it does not check that kind. */
function verdictOf(o: Obj, namespace: string): { errors: string[]; warnings: string[] } | undefined {
  const meta = isObj(o.metadata) ? o.metadata : {};
  const group = str(o.apiVersion).split('/').slice(0, -1).join('/');
  if (ISTIO_GROUPS.includes(group)) {
    const unknown = unknownSpecField(str(o.kind), o.spec);
    if (unknown) return { errors: [`cannot parse proto message: ${unknown}`], warnings: [] };
    // Objects without a namespace are checked as if in `namespace` (exportTo "." depends on it).
    const v = validateObject({ ...o, metadata: { ...meta, namespace: str(meta.namespace) || namespace } });
    if (v.allowed) return { errors: [], warnings: v.warnings };
    // istioctl words the webhook's decoding errors its own way.
    const decoding = v.reason === 'crd_conversion_error' ? 'cannot parse proto message: ' : '';
    return { errors: [decoding ? decoding + (v.message ?? '').replace(/^error decoding configuration: /, '') : (v.message ?? '')], warnings: [] };
  }
  if (o.kind === 'Service') return { errors: serviceErrors(o), warnings: [] };
  if (o.kind === 'Deployment') return deploymentFindings(o);
  if (o.apiVersion === ISTIO_OPERATOR_API && o.kind === 'IstioOperator') {
    const unknown = Object.keys(o).filter((k) => !TOP_LEVEL.includes(k));
    if (unknown.length > 0) return { errors: unknown.map((k) => `unknown field "${k}"`), warnings: [] };
    return istioOperatorFindings(o);
  }
  return undefined;
}

/** Validates every object in `text`; objects without a namespace are checked as if in `namespace`. */
export function validateStream(text: string, source: string, namespace: string): ValidateOutput {
  const lines: string[] = [];
  let invalid = 0;
  let docs: unknown[];
  try {
    docs = parseYamlStream(text, source);
  } catch (e) {
    // A YamlError already names the source with its line and column.
    const where = e instanceof YamlError ? '' : `${source}: `;
    return { lines: [`✘ ${where}${(e as Error).message}`], invalid: 1 };
  }
  // A List (anything with an items array, as unstructured.IsList has it) is checked item by item.
  const isList = (d: unknown): d is Obj => isObj(d) && Array.isArray(d.items) && !ISTIO_GROUPS.includes(str(d.apiVersion).split('/')[0]!);
  const objects = docs.filter((d) => d !== null).flatMap((d) => (isList(d) ? (d.items as unknown[]) : [d]));
  for (const o of objects) {
    if (!isObj(o)) {
      lines.push(`✘ ${source}: not an object: ${JSON.stringify(o).slice(0, 80)}`);
      invalid++;
      continue;
    }
    const meta = isObj(o.metadata) ? o.metadata : {};
    const id = `${str(o.kind) || '<no kind>'} ${str(meta.namespace) || namespace}/${str(meta.name)}`;
    const v = verdictOf(o, namespace);
    if (!v) {
      lines.push(`- ${id}: not a kind istioctl validate checks, skipped`);
      continue;
    }
    if (v.errors.length > 0) {
      lines.push(`✘ ${id}: ${joinErrors(v.errors).trimEnd().replace(/\n\s*\n/g, '\n')}`);
      invalid++;
    } else lines.push(`✔ ${id}`);
    for (const w of v.warnings) lines.push(`  warning: ${w}`);
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
