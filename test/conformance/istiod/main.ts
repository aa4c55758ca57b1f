// `npm run conformance:istiod`: real istiod and meshd side by side on real API servers (v1.36 from
// test/peers), with the same mesh config, injector values and injector config (Istio's own templates, as
// Istio's chart puts them in the istio-sidecar-injector ConfigMap: setup.ts). Prints score lines per part,
// writes every difference to a report file, and fails when a score falls below its floor (floors.json).
//
// Parts: 1. injection (the inputs of Istio's injection goldens and MESHD_CONFORMANCE_PODS, default 2,000,
// generated pods; with native sidecars, then again with classic ones), 2. validation (Istio's validation
// corpus and MESHD_CONFORMANCE_VARIANTS, default 9, one-mutation variants of each corpus object), 3. xDS
// (xds-part.ts: meshes of xds-meshes.ts, each proxy connected to both).
// Run by run.sh inside fresh network and PID namespaces; see README.md here.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import fc from 'fast-check';
import { parseYamlStream } from '../../../src/config/yaml.js';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { startCluster, type Cluster } from '../../e2e/cluster.js';
import { waitForServiceAccount } from '../../e2e/fixtures.js';
import { admissiblePod } from '../../fuzz/pods.js';
import { INJECT_DIR, injectableDocs, objectToPod, parseCases } from '../inject.js';
import { DIR as VALIDATION_DIR, cases as validationCases } from '../validation.js';
import { admittedPod } from './admitted.js';
import { mutate, prng } from './mutate.js';
import { compareInjection, compareValidation, diffClass, readAnswer } from './compare.js';
import { postReview, startIstiod, type Istiod } from './istiod.js';
import { ratchet } from '../floors.js';
import { xdsdumpBin } from '../../peers/tools.js';
import { configure, NS } from './setup.js';
import { xdsPart } from './xds-part.js';

type Obj = Record<string, unknown>;

interface Report {
  lines: string[];
  classes: Map<string, number>;
}

const review = (uid: string, namespace: string, object: unknown): string =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid, operation: 'CREATE', namespace, object } });

async function both(istiod: Istiod, meshd: MeshdProcess, path: string, body: string): Promise<[{ status: number; body: string }, { status: number; body: string }]> {
  const fail = (e: Error) => ({ status: 0, body: e.message });
  return Promise.all([postReview(meshd.webhookPort, path, body).catch(fail), postReview(istiod.webhookPort, path, body).catch(fail)]);
}

function tally(report: Report, name: string, diffs: string[]): void {
  report.lines.push(`== ${name}`, ...diffs.map((d) => `  ${d}`));
  for (const c of new Set(diffs.map(diffClass))) report.classes.set(c, (report.classes.get(c) ?? 0) + 1);
}

/** Creates the pod's ServiceAccount if it names one: admission refuses a pod whose account is missing. */
async function ensureServiceAccount(core: CoreV1Api, namespace: string, pod: Obj): Promise<void> {
  const name = ((pod.spec ?? {}) as Obj).serviceAccountName;
  if (typeof name !== 'string' || name === '' || name === 'default') return;
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
}

interface PodInput {
  name: string;
  source: 'golden' | 'generated';
  namespace: string;
  pod: Obj;
}

/** The workloads of Istio's injection goldens, as pods (inject_test.go's objectToPod). */
function goldenInputs(): PodInput[] {
  const cases = parseCases().filter((c) => c.paths === 'both' || c.paths === 'webhook only');
  return cases.flatMap((c) => injectableDocs(c.input).map((doc, i) => ({
    name: `${c.input} doc ${i} (${c.golden})`,
    source: 'golden' as const,
    namespace: String(((doc.metadata as Obj | undefined) ?? {}).namespace ?? '') || 'default',
    pod: objectToPod(doc) as unknown as Obj,
  })));
}

/**
 * Pods from test/fuzz/pods.ts's admissible generator (the fuzzer's own pods are mostly refused by the API
 * server: empty images, invalid label values), with a fixed seed so every run sends the same ones.
 */
function generatedInputs(count: number): PodInput[] {
  return fc.sample(admissiblePod, { seed: 13, numRuns: count }).map((p, i) => {
    const pod = p as unknown as Obj;
    return { name: `generated ${i}`, source: 'generated' as const, namespace: String((pod.metadata as Obj).namespace), pod };
  });
}

interface InjectionCount {
  total: number;
  same: number;
  stored: number;
  skipped: number;
}

type InjectionCounts = Record<PodInput['source'], InjectionCount>;

async function injectionPart(cluster: Cluster, istiod: Istiod, meshd: MeshdProcess, report: Report, inputs: PodInput[], round: string): Promise<InjectionCounts> {
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const namespaces = new Set(['default', ...(await core.listNamespace()).items.map((n) => n.metadata!.name!)]);
  const count: InjectionCounts = { golden: { total: 0, same: 0, stored: 0, skipped: 0 }, generated: { total: 0, same: 0, stored: 0, skipped: 0 } };
  for (const input of inputs) {
    const c = count[input.source];
    const { namespace } = input;
    if (!namespaces.has(namespace)) {
      await core.createNamespace({ body: { metadata: { name: namespace } } });
      await waitForServiceAccount(core, namespace);
      namespaces.add(namespace);
    }
    c.total++;
    await ensureServiceAccount(core, namespace, input.pod);
    const admitted = await admittedPod(cluster.kc, namespace, input.pod);
    if (!admitted.pod) {
      c.skipped++;
      tally(report, `inject [${round}] ${input.name}: skipped`, [`skipped: the API server refused the pod: ${admitted.error}`]);
      continue;
    }
    const pod = admitted.pod;
    const [m, s] = await both(istiod, meshd, '/inject', review(input.name, namespace, pod));
    const v = compareInjection(readAnswer(m.status, m.body, pod), readAnswer(s.status, s.body, pod));
    if (v.identical) c.same++;
    if (v.identicalAsStored) c.stored++;
    if (!v.identical) tally(report, `inject [${round}] ${input.name}`, v.diffs);
  }
  return count;
}

function injectionScores(rounds: Array<[string, InjectionCounts]>): string[] {
  const sum = (xs: InjectionCount[]): InjectionCount => xs.reduce((a, x) => ({ total: a.total + x.total, same: a.same + x.same, stored: a.stored + x.stored, skipped: a.skipped + x.skipped }));
  const all = sum(rounds.flatMap(([, c]) => [c.golden, c.generated]));
  const line = (name: string, x: InjectionCount): string =>
    `  ${name}: ${x.same}/${x.total} identical, ${x.stored}/${x.total} as stored, ${x.skipped} skipped`;
  return [
    `${all.same}/${all.total} pods injected identically to istiod (${all.skipped} skipped: the API server refused them)`,
    `  ${all.stored}/${all.total} identical after Go's corev1.Pod JSON round trip (what the API server stores)`,
    ...rounds.flatMap(([round, c]) => [line(`${round}, golden inputs`, c.golden), line(`${round}, generated pods`, c.generated)]),
  ];
}

interface ObjectInput {
  name: string;
  source: 'corpus' | 'generated';
  object: unknown;
}

/** Istio's validation corpus, and `perCase` seeded one-mutation variants of each of its objects. */
function validationInputs(perCase: number): ObjectInput[] {
  const rand = prng(13);
  return validationCases().flatMap((c) => {
    const [object] = parseYamlStream(readFileSync(join(VALIDATION_DIR, c.file), 'utf8'), c.file);
    const corpus: ObjectInput = { name: `${c.file} (${c.kind}, corpus says ${c.expect})`, source: 'corpus', object };
    const variants = Array.from({ length: perCase }, (_, i): ObjectInput => {
      const m = mutate(object as Obj, rand);
      return { name: `${c.file} variant ${i} (${c.kind}; ${m.change})`, source: 'generated', object: m.object };
    });
    return [corpus, ...variants];
  });
}

async function validationPart(istiod: Istiod, meshd: MeshdProcess, report: Report, inputs: ObjectInput[]): Promise<string[]> {
  const zero = () => ({ total: 0, agree: 0, verdicts: 0, messages: 0, allowedByIstiod: 0 });
  const count = { corpus: zero(), generated: zero() };
  for (const input of inputs) {
    const c = count[input.source];
    const [m, s] = await both(istiod, meshd, '/validate', review(input.name, 'default', input.object));
    const [ma, sa] = [readAnswer(m.status, m.body), readAnswer(s.status, s.body)];
    const v = compareValidation(ma, sa);
    c.total++;
    if (v.agree) c.agree++;
    if (ma.allowed === sa.allowed && !ma.broken && !sa.broken) c.verdicts++;
    if (v.messageDiffers) c.messages++;
    if (sa.allowed) c.allowedByIstiod++;
    if (!v.agree) tally(report, `validate ${input.name}`, v.diffs);
  }
  const { corpus: k, generated: g } = count;
  const line = (name: string, x: ReturnType<typeof zero>): string =>
    `  ${name}: ${x.agree}/${x.total} agree, ${x.verdicts}/${x.total} on the verdict alone, istiod allowed ${x.allowedByIstiod}`;
  return [
    `${k.agree + g.agree}/${k.total + g.total} verdicts agree with istiod (verdict and warnings)`,
    line("Istio's validation corpus", k),
    line('generated (one mutation of a corpus object)', g),
    `  ${k.messages + g.messages} denials worded differently (not scored)`,
  ];
}

/** Parts 1 and 2 on one API server: injection (native, then classic sidecars) and validation. */
async function admissionParts(peers: string, report: Report, parts: Set<string>): Promise<{ scores: string[]; version: string }> {
  const generated = Number(process.env.MESHD_CONFORMANCE_PODS ?? 2000);
  // 9 variants of each of the 607 corpus objects: 5,463 generated objects.
  const variants = Number(process.env.MESHD_CONFORMANCE_VARIANTS ?? 9);
  const started = Date.now();
  const cluster = await startCluster();
  let istiod: Istiod | undefined;
  let meshd: MeshdProcess | undefined;
  try {
    await configure(cluster);
    const pods = [...goldenInputs(), ...generatedInputs(generated)];
    const rounds: Array<[string, InjectionCounts]> = [];
    let validation: string[] = [];
    // Native sidecars as both choose them from the Node (auto), then classic ones for both (false).
    for (const [round, native] of [['native sidecars (auto, kubelet v1.36)', 'auto'], ['classic sidecars (ENABLE_NATIVE_SIDECARS=false)', 'false']] as const) {
      if (!parts.has('inject') && native === 'false') continue;
      // istiod first: it creates istio-ca-secret, which meshd then loads, so both sign with one root.
      istiod = await startIstiod(join(peers, 'pilot-discovery'), cluster.kubeconfig, { ENABLE_NATIVE_SIDECARS: native });
      meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], { ENABLE_LEADER_ELECTION: 'false', POD_NAMESPACE: NS, ENABLE_NATIVE_SIDECARS: native });
      console.log(`istiod and meshd up on Kubernetes ${cluster.version} (${round}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (parts.has('inject')) rounds.push([round, await injectionPart(cluster, istiod, meshd, report, pods, native === 'auto' ? 'native' : 'classic')]);
      if (native === 'auto' && parts.has('validation')) validation = await validationPart(istiod, meshd, report, validationInputs(variants));
      await meshd.close();
      await istiod.close();
      meshd = istiod = undefined;
    }
    return { scores: [...(rounds.length ? injectionScores(rounds) : []), ...validation], version: cluster.version };
  } finally {
    await meshd?.close();
    await istiod?.close();
    await cluster.stop();
  }
}

function writeReport(file: string, title: string, scores: string[], report: Report): string[] {
  const classes = [...report.classes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `  ${n}\t${c}`);
  writeFileSync(file, [
    title, '# "got" is meshd, "want" is istiod.', ...scores,
    '', '# difference classes (inputs affected, by field path)', ...classes,
    '', '# differences by input', ...report.lines, '',
  ].join('\n'));
  return classes;
}

async function main(): Promise<void> {
  const peers = process.env.MESHD_PEERS_BIN;
  if (!peers) throw new Error('MESHD_PEERS_BIN is not set: run with `npm run conformance:istiod`');
  const outDir = process.env.MESHD_CONFORMANCE_OUT ?? join(import.meta.dirname, '..', '..', '..', '.conformance');
  // All parts by default; MESHD_CONFORMANCE_PARTS=xds (say) runs one while working on it. Floors are
  // checked only for the parts that ran.
  const parts = new Set((process.env.MESHD_CONFORMANCE_PARTS ?? 'inject,validation,xds').split(','));
  const started = Date.now();
  mkdirSync(outDir, { recursive: true });
  const scores: string[] = [];
  if (parts.has('inject') || parts.has('validation')) {
    const report: Report = { lines: [], classes: new Map() };
    const r = await admissionParts(peers, report, parts);
    const file = join(outDir, 'istiod-differences.txt');
    const classes = writeReport(file, `# meshd vs istiod (${r.version}); inputs from ${INJECT_DIR} and ${VALIDATION_DIR}`, r.scores, report);
    for (const s of r.scores) console.log(s);
    console.log(`biggest difference classes:\n${classes.slice(0, 12).join('\n')}`);
    console.log(`report: ${file}`);
    scores.push(...r.scores);
  }
  if (parts.has('xds')) {
    const report: Report = { lines: [], classes: new Map() };
    const xds = await xdsPart(peers, xdsdumpBin(), report);
    const file = join(outDir, 'xds-differences.txt');
    const classes = writeReport(file, '# xDS resources: meshd vs istiod, per mesh, proxy, type and resource', xds, report);
    for (const s of xds) console.log(s);
    console.log(`biggest xDS difference classes:\n${classes.slice(0, 15).join('\n')}`);
    console.log(`report: ${file}`);
    scores.push(...xds);
  }
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  const problems = ratchet('istiod', scores);
  for (const p of problems) console.error(p);
  if (problems.length) process.exitCode = 1;
}

await main();
