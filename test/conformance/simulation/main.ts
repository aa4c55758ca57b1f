// `npm run conformance:simulation`: Istio's xDS traffic-simulation expectations (../shared/istio/simulation)
// run against meshd's Envoy output. Each case gets its own `meshd serve --local-dir`, its proxy's listeners,
// clusters and routes are fetched over xDS, and Istio's own simulator (test/peers/simulate) plays the calls.
// Prints the scores, writes every difference to .conformance/simulation-differences.txt and checks the
// floors in test/conformance/floors.json. See README.md here.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateBin, xdsdumpBin } from '../../peers/tools.js';
import { ratchet } from '../floors.js';
import { DIR, loadCases, loadSkipped, type SimCase } from './cases.js';
import { differences } from './expect.js';
import { meshdInputs } from './inputs.js';
import { runCase, type CaseRun, type Tools } from './run-case.js';

interface Tally {
  match: number;
  total: number;
}

const add = (m: Map<string, Tally>, key: string, match: number, total: number): void => {
  const t = m.get(key) ?? { match: 0, total: 0 };
  m.set(key, { match: t.match + match, total: t.total + total });
};

const failed = (c: SimCase, line: string): Outcome =>
  ({ matched: 0, lines: [line], validations: { passed: 0, total: c.validate.length } });

interface Outcome {
  matched: number;
  lines: string[];
  validations: { passed: number; total: number };
}

/** Scores one case's run and writes its report lines (only what differs). */
function score(c: SimCase, r: CaseRun): Outcome {
  const lines: string[] = [];
  let matched = 0;
  c.calls.forEach((e, i) => {
    const got = r.results[i];
    const diffs = got ? differences(e.expect, got) : ['no result from the simulator'];
    if (diffs.length === 0) return void matched++;
    const { call, ...result } = got ?? { call: e.call, error: '' };
    const shown = { ...result, error: result.error || 'none' };
    lines.push(
      `  call "${e.goName ?? e.name}" ${JSON.stringify(call)}`,
      `    want ${JSON.stringify(e.expect)}`,
      `    got  ${JSON.stringify(shown)}`,
    );
    for (const d of diffs) lines.push(`    - ${d}`);
  });
  let passed = 0;
  for (const kind of c.validate) {
    const errs = r.validation[kind];
    if (errs?.length === 0) passed++;
    else {
      lines.push(`  validate ${kind}: ${errs ? `${errs.length} errors` : 'not run'}`);
      for (const x of (errs ?? []).slice(0, 10)) lines.push(`    - ${x}`);
    }
  }
  for (const n of r.notes) lines.push(`  note: ${n.length > 400 ? `${n.slice(0, 400)} ...` : n}`);
  return { matched, lines, validations: { passed, total: c.validate.length } };
}

async function main(): Promise<void> {
  if (!existsSync(join(DIR, 'cases', 'INDEX.tsv'))) {
    console.log(`conformance:simulation skipped: ${DIR}/cases/INDEX.tsv not found (../shared is absent)`);
    return;
  }
  const started = Date.now();
  const tools: Tools = { simulate: simulateBin(), xdsdump: xdsdumpBin() };
  const outDir = process.env.MESHD_CONFORMANCE_OUT ?? join(import.meta.dirname, '..', '..', '..', '.conformance');
  const only = process.env.MESHD_SIMULATION_CASES; // a substring of case file names, for debugging
  const cases = loadCases().filter((c) => !only || c.file.includes(only));
  // Objects without a creationTimestamp all get this one, as the harness gives them time.Now at parse time.
  const timestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const byGoFile = new Map<string, Tally>();
  const byTest = new Map<string, Tally>();
  const report: string[] = [];
  const notRun = new Map<string, string[]>(); // reason -> case files
  let notRunCalls = 0;
  let matched = 0;
  let total = 0;
  let fullCases = 0;
  const validations = { passed: 0, total: 0 };
  for (const c of cases) {
    const inputs = meshdInputs(c, timestamp);
    let outcome: Outcome;
    if (inputs.unsupported.length) {
      // Counted as failing, not dropped: meshd cannot be given what Istio's harness is given.
      const why = inputs.unsupported.join('; ');
      notRun.set(why, [...(notRun.get(why) ?? []), c.file.replace(/\.yaml$/, '')]);
      notRunCalls += c.calls.length;
      outcome = failed(c, `  not run (its ${c.calls.length} calls count as failing): ${why}`);
    } else {
      try {
        outcome = score(c, await runCase(c, inputs, tools));
      } catch (e) {
        outcome = failed(c, `  run failed: ${(e as Error).message.split('\n').slice(0, 5).join(' | ')}`);
      }
    }
    matched += outcome.matched;
    total += c.calls.length;
    if (outcome.matched === c.calls.length && c.calls.length > 0) fullCases++;
    validations.passed += outcome.validations.passed;
    validations.total += outcome.validations.total;
    add(byGoFile, c.source.file.split('/').pop()!, outcome.matched, c.calls.length);
    add(byTest, c.source.test, outcome.matched, c.calls.length);
    report.push(`== ${c.file}: ${outcome.matched}/${c.calls.length} calls match`, ...outcome.lines);
  }
  const breakdown = (m: Map<string, Tally>): string[] => [...m].map(([k, t]) => `  ${k}: ${t.match}/${t.total}`);
  const skippedRows = loadSkipped();
  const skipped = skippedRows.map((s) => `${s.test}${s.case ? `/${s.case}` : ''} (${s.scope}): ${s.reason}`);
  const skippedTests = [...new Set(skippedRows.map((s) => s.test))].map((t) => {
    const rows = skippedRows.filter((s) => s.test === t);
    const reason = rows[0]!.reason.split(/[;:(]|\. /)[0]!.trim();
    return `${t} (${rows.length} ${rows.length === 1 ? 'row' : 'rows'}: ${reason})`;
  });
  const scores = [
    `${matched}/${total} simulation calls match (${fullCases} of ${cases.length} cases match in every call)`,
    ...breakdown(byGoFile),
    `${validations.passed}/${validations.total} xDS validations pass (xdstest's checks run after the calls)`,
  ];
  const skipLines = [
    `not run, counted as failing (${[...notRun.values()].flat().length} cases, ${notRunCalls} calls): ${
      [...notRun].map(([why, files]) => `${why}: ${files.join(', ')}`).join('; ') || 'none'}`,
    `skipped by the data (${skipped.length} rows of skipped.tsv; reasons in the report): ${
      skippedTests.join('; ')}`,
  ];
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'simulation-differences.txt');
  writeFileSync(file, [
    `# Istio traffic simulation on meshd's xDS; cases from ${DIR}`,
    '# per call: the effective call (after Call.FillDefaults), what the case expects, what the simulator',
    '# found on meshd; then the failed xDS validations and notes (xdsdump findings, meshd warnings)',
    ...scores, '', '# by test', ...breakdown(byTest), '', ...skipLines,
    '', '# skipped.tsv', ...skipped.map((s) => `  ${s}`),
    '', '# cases', ...report, '',
  ].join('\n'));
  for (const l of [...scores, ...skipLines]) console.log(l);
  console.log(`report: ${file} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (only) return; // a partial run has no floor
  const problems = ratchet('simulation', scores);
  for (const p of problems) console.error(p);
  if (problems.length) process.exitCode = 1;
}

await main();
