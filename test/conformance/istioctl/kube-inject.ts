// Part 1: `istioctl kube-inject` and `meshd inject` on the inputs of Istio's injection goldens, with the same
// injector config, values and mesh config (meshd's chart and templates: chart-config.ts), compared document
// by document as parsed YAML. istioctl runs offline (all three files given) but still watches the API server's
// MutatingWebhookConfigurations before it injects, so it gets the harness cluster's kubeconfig. `meshd inject`
// runs in process through its command's own function (src/cli/inject.ts runInject), which spares 300 Node
// starts; its output is the same file the command writes.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInject } from '../../../src/cli/inject.js';
import { commonOptions } from '../../../src/cli/options.js';
import { parseYamlStream } from '../../../src/config/yaml.js';
import { INJECT_DIR, diffPaths, goNormalize, parseCases } from '../inject.js';
import type { InjectorFiles } from './chart-config.js';

const run = promisify(execFile);

export interface InjectRound {
  name: string;
  /** ENABLE_NATIVE_SIDECARS for both, or undefined for each tool's default. */
  native: 'true' | 'false' | undefined;
  /** The chart's ConfigMap values as shipped, or meshd's effective values (defaults merged in). */
  values: 'chart' | 'effective';
}

export const ROUNDS: InjectRound[] = [
  { name: "chart values as shipped, each tool's default sidecars (classic on both: offline, neither has Nodes)", native: undefined, values: 'chart' },
  { name: "meshd's effective values, native sidecars on both (ENABLE_NATIVE_SIDECARS=true)", native: 'true', values: 'effective' },
  { name: "meshd's effective values, classic sidecars on both (ENABLE_NATIVE_SIDECARS=false)", native: 'false', values: 'effective' },
  { name: "meshd's effective values, each tool's default sidecars (ENABLE_NATIVE_SIDECARS unset: classic on both, offline)", native: undefined, values: 'effective' },
];

export interface InjectCounts {
  documents: number;
  identical: number;
  /** Identical once Go's zero values are dropped on both sides (goNormalize). */
  identicalGo: number;
  refusedByBoth: number;
  refusedByOne: number;
  diffs: string[];
}

/** The distinct input files of Istio's golden cases. */
export function inputFiles(): string[] {
  const all = [...new Set(parseCases().map((c) => c.input))].filter((f) => existsSync(join(INJECT_DIR, 'inject', f))).sort();
  // MESHD_ISTIOCTL_INPUTS=N: only the first N, for a quick look (a different M, so the ratchet complains).
  const n = Number(process.env.MESHD_ISTIOCTL_INPUTS ?? all.length);
  return all.slice(0, n);
}

const docsOf = (text: string, what: string): unknown[] => parseYamlStream(text, what).filter((d) => d !== null && d !== undefined);

type Outcome = { docs: unknown[] } | { error: string };

async function istioctl(bin: string, kubeconfig: string, input: string, files: InjectorFiles, native: string | undefined): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: kubeconfig };
  if (native) env.ENABLE_NATIVE_SIDECARS = native;
  const args = ['kube-inject', '-f', input, '--injectConfigFile', files.config, '--meshConfigFile', files.mesh, '--valuesFile', files.values];
  try {
    const { stdout } = await run(bin, args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    return { docs: docsOf(stdout, 'istioctl output') };
  } catch (e) {
    return { error: String((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').slice(-3).join(' | ') };
  }
}

async function meshd(input: string, out: string, files: InjectorFiles, native: string | undefined): Promise<Outcome> {
  const flags = { values: files.values, mesh: files.mesh, 'injector-config': files.config };
  const env: NodeJS.ProcessEnv = native ? { ENABLE_NATIVE_SIDECARS: native } : {};
  const stderr = process.stderr.write;
  const warnings: string[] = [];
  // runInject reports warnings on stderr as the command does; here they are kept out of the score output.
  process.stderr.write = ((chunk: string | Uint8Array) => warnings.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    await runInject(input, out, commonOptions(flags, env));
    return { docs: docsOf(readFileSync(out, 'utf8'), 'meshd output') };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    process.stderr.write = stderr;
  }
}

export async function kubeInjectRound(bin: string, kubeconfig: string, files: InjectorFiles, scratch: string, round: InjectRound): Promise<InjectCounts> {
  const c: InjectCounts = { documents: 0, identical: 0, identicalGo: 0, refusedByBoth: 0, refusedByOne: 0, diffs: [] };
  for (const file of inputFiles()) {
    const input = join(INJECT_DIR, 'inject', file);
    const n = docsOf(readFileSync(input, 'utf8'), file).length;
    const used = { ...files, values: round.values === 'chart' ? files.values : files.effectiveValues };
    const [want, got] = [await istioctl(bin, kubeconfig, input, used, round.native), await meshd(input, join(scratch, 'out.yaml'), used, round.native)];
    if ('error' in want || 'error' in got) {
      // An input both refuse (Istio's bad-annotation goldens) has no documents to compare.
      if ('error' in want && 'error' in got) c.refusedByBoth++;
      else {
        c.documents += n;
        c.refusedByOne++;
        c.diffs.push(`${file}: ${'error' in want ? `istioctl refused: ${want.error}` : `meshd refused: ${(got as { error: string }).error}`}`);
      }
      continue;
    }
    c.documents += n;
    for (let i = 0; i < n; i++) {
      const diffs = diffPaths(got.docs[i], want.docs[i]);
      if (diffs.length === 0) c.identical++;
      if (diffPaths(goNormalize(got.docs[i]), goNormalize(want.docs[i])).length === 0) c.identicalGo++;
      c.diffs.push(...diffs.map((d) => `${file} doc ${i}: ${d}`));
    }
  }
  return c;
}

export function injectScores(rounds: Array<[InjectRound, InjectCounts]>): string[] {
  return rounds.flatMap(([r, c]) => [
    `${c.identical}/${c.documents} documents injected by istioctl kube-inject identically to meshd inject, ${r.name}`,
    `${c.identicalGo}/${c.documents} documents identical to istioctl's once Go's zero values are dropped, ${r.name}`,
    `  inputs refused by both: ${c.refusedByBoth}, by one only: ${c.refusedByOne}`,
  ]);
}
