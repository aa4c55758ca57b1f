// `npm run conformance:chart`: every values file, Helm profile and IstioOperator profile of Istio's (by
// default ../shared/istio/values, or MESHD_ISTIO_VALUES) rendered by meshd's chart (`helm template`) and by
// Istio's own renderer (`istioctl manifest generate` of the real peers, which embeds istiod's charts); the
// objects meshd owns are compared as owned.ts projects them. Prints every difference, every file a side
// cannot render, what istiod renders that meshd does not by design, and
// `N/M values files render as istiod's chart does`. Exit status 1 unless all of them do.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { scratchDir } from '../../helpers/scratch.js';
import { caseFor, iop as caseIop, type Case } from './cases.js';
import { injectDifferences, WORKLOADS } from './inject.js';
import { diffViews, owned, type Difference, type Obj } from './owned.js';
import { ratchet } from '../floors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// MESHD_CHART: another chart to hold against istiod's (an older meshd chart, to see the check bite).
const CHART = process.env.MESHD_CHART ?? join(ROOT, 'charts', 'meshd');
const VALUES_DIR = process.env.MESHD_ISTIO_VALUES ?? join(ROOT, '..', 'shared', 'istio', 'values');
const lastLine = (s: string): string => s.trim().split('\n').pop()!;
const script = (path: string, env: NodeJS.ProcessEnv = process.env): string =>
  lastLine(execFileSync('bash', [join(ROOT, ...path.split('/'))], { encoding: 'utf8', env }));
const tools = process.env.MESHD_KUBE_TOOLS ?? script('test/e2e/kube-tools.sh');
const peers = process.env.MESHD_PEERS_BIN
  ?? script('test/peers/build.sh', { ...process.env, MESHD_PEERS_ONLY: 'istioctl' });
const dir = scratchDir('meshd-conformance-chart-');
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(dir, 'c'), HELM_CONFIG_HOME: join(dir, 'f'), HELM_DATA_HOME: join(dir, 'd'),
};

// Both sides install the proxy image meshd's chart ships: istioctl built from source defaults to
// registry.istio.io/testing:latest. A file that sets global.hub / tag (or spec.hub / tag) still wins.
const PROXY = { hub: 'docker.io/istio', tag: '1.28.0' };

type Rendered = { docs: Obj[] } | { error: string };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Rendered {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) {
    const message = `${r.stderr || r.stdout || r.error?.message || ''}`.trim();
    return { error: message.split('\n').slice(0, 3).join(' | ') };
  }
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
  return { docs: docs.filter((d) => d && typeof d === 'object') };
}

function renderMeshd(c: Case, n: number): Rendered {
  if (!c.helm) return { docs: [] };
  const pin = join(dir, `${n}-pin.yaml`);
  const values = join(dir, `${n}-values.yaml`);
  writeFileSync(pin, stringify({ global: PROXY }));
  writeFileSync(values, stringify(c.helm));
  const args = ['template', 'istiod', CHART, '-n', 'istio-system', '-f', pin, '-f', values];
  return run(join(tools, 'helm'), args, helmEnv);
}

function renderIstiod(c: Case, n: number): Rendered {
  const pin = join(dir, `${n}-pin-iop.yaml`);
  const iop = join(dir, `${n}-iop.yaml`);
  writeFileSync(pin, stringify(caseIop(PROXY)));
  writeFileSync(iop, stringify(c.iop));
  return run(join(peers, 'istioctl'), ['manifest', 'generate', '-f', pin, '-f', iop]);
}

const show = (v: unknown): string => (v === undefined ? '(absent)' : JSON.stringify(v));

const started = Date.now();
const files = readdirSync(VALUES_DIR).filter((f) => f.endsWith('.yaml')).sort();
let same = 0;
const lines: string[] = [];
for (const [n, file] of files.entries()) {
  let c: Case;
  try {
    c = caseFor(join(VALUES_DIR, file));
  } catch (e) {
    lines.push(`FAIL ${file}: meshd cannot read it: ${(e as Error).message}`);
    continue;
  }
  const m = renderMeshd(c, n);
  const i = renderIstiod(c, n);
  if ('error' in m || 'error' in i) {
    lines.push(`FAIL ${file} (${c.how})`);
    if ('error' in m) lines.push(`  meshd's chart cannot render it: ${m.error}`);
    if ('error' in i) lines.push(`  istioctl cannot render it: ${i.error}`);
    continue;
  }
  const mo = owned(m.docs);
  const io = owned(i.docs);
  const diffs: Difference[] = [];
  for (const role of [...new Set([...mo.roles.keys(), ...io.roles.keys()])].sort()) {
    const only = (meshd: unknown, istiod: unknown): Difference => ({ role, path: '(object)', meshd, istiod });
    if (!mo.roles.has(role)) diffs.push(only(undefined, 'rendered'));
    else if (!io.roles.has(role)) diffs.push(only('rendered', undefined));
    else diffs.push(...diffViews(role, mo.roles.get(role), io.roles.get(role)));
  }
  // Every difference is a defect of meshd's chart: what meshd leaves out by design is not compared at all.
  const defects = diffs;
  const injected = await injectDifferences({ docs: m.docs, dir }, { docs: i.docs, dir });
  const ok = defects.length === 0 && (injected ?? []).length === 0;
  if (ok) same++;
  const w = WORKLOADS.length;
  const alike = injected && `${w - injected.length}/${w} workloads injected alike`;
  const counts = `${io.roles.size} owned objects from istiod's chart, ${mo.roles.size} from meshd's`;
  lines.push(`${ok ? 'ok  ' : 'FAIL'} ${file} (${c.how}): ${counts}, ${alike || 'no injector'}`);
  for (const d of injected ?? []) lines.push(`  DIFF  ${d}`);
  for (const d of diffs) {
    lines.push(`  DIFF  ${d.role} ${d.path}: meshd ${show(d.meshd)}, istiod ${show(d.istiod)}`);
  }
  for (const [obj, why] of io.unmapped) lines.push(`  not rendered by meshd by design: ${obj}: ${why}`);
}
console.log(lines.join('\n'));
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const score = `${same}/${files.length} values files render as istiod's chart does (${seconds}s)`;
console.log(score);
// A ratchet like the other parts: the floor is all of them, so any file that stops rendering alike fails.
const problems = ratchet('chart', [score]);
for (const p of problems) console.error(p);
process.exitCode = problems.length ? 1 : 0;
