// Runs Istio's validation cases (../shared/istio/validation, INDEX.tsv) through meshd's validating webhook
// path and prints how many agree: the verdict must match (allowed = valid or warning; warnings must
// appear where Istio asserted them) and an invalid case's message must contain the expected substring.
//
// Usage: tsx test/conformance/validation.ts [--verbose] [--kind Kind]
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYamlStream } from '../../src/config/yaml.js';
import { reviewValidation } from '../../src/validation/review.js';

export const SHARED = resolve(process.env.MESHD_SHARED ?? join(import.meta.dirname, '..', '..', '..', 'shared'));
export const DIR = join(SHARED, 'istio', 'validation');

export interface Case {
  file: string;
  kind: string;
  expect: 'valid' | 'invalid' | 'warning';
  substring?: string;
  warningsChecked: boolean;
}

export function cases(): Case[] {
  return readFileSync(join(DIR, 'INDEX.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [file = '', kind = '', expect = '', reason = '', , warningsChecked = ''] = l.split('\t');
      const m = /error contains: "(.*)"$/.exec(reason.split('; CRD error:')[0]!);
      return { file, kind, expect: expect as Case['expect'], substring: m?.[1], warningsChecked: warningsChecked === 'yes' };
    });
}

function main(): void {
  if (!existsSync(join(DIR, 'INDEX.tsv'))) {
    console.log(`conformance:validation skipped: ${DIR}/INDEX.tsv not found (../shared is absent)`);
    return;
  }
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  const onlyKind = args.includes('--kind') ? args[args.indexOf('--kind') + 1] : undefined;
  const all = cases().filter((c) => !onlyKind || c.kind === onlyKind);
  let agree = 0;
  const perKind = new Map<string, [number, number]>();
  for (const c of all) {
    const [object] = parseYamlStream(readFileSync(join(DIR, c.file), 'utf8'), c.file);
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: c.file, operation: 'CREATE', namespace: 'default', object } };
    const resp = reviewValidation(JSON.parse(JSON.stringify(review))).review.response!;
    let ok: boolean;
    let why = '';
    if (c.expect === 'invalid') {
      ok = !resp.allowed && (c.substring === undefined || (resp.status?.message ?? '').includes(c.substring));
      why = resp.allowed ? 'allowed' : `message: ${resp.status?.message}`;
    } else {
      ok = resp.allowed;
      if (ok && c.warningsChecked) ok = c.expect === 'warning' ? (resp.warnings ?? []).length > 0 : (resp.warnings ?? []).length === 0;
      why = resp.allowed ? `warnings: ${JSON.stringify(resp.warnings ?? [])}` : `denied: ${resp.status?.message}`;
    }
    const k = perKind.get(c.kind) ?? [0, 0];
    perKind.set(c.kind, [k[0] + (ok ? 1 : 0), k[1] + 1]);
    if (ok) agree++;
    else if (verbose) console.log(`DISAGREE ${c.file} (expect ${c.expect}${c.substring ? `: "${c.substring}"` : ''})\n  ${why.replace(/\n/g, '\\n').slice(0, 400)}`);
  }
  if (verbose) for (const [k, [a, t]] of [...perKind].sort()) console.log(`  ${k}: ${a}/${t}`);
  console.log(`${agree}/${all.length} Istio validation cases agree`);
  // The target is 97%; running a subset (--kind) only reports.
  if (!onlyKind && agree < Math.ceil(all.length * 0.97)) process.exitCode = 1;
}

// Also a library for the side-by-side run against istiod (test/conformance/istiod).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
