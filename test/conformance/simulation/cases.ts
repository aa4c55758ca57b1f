// The simulation cases of ../shared/istio/simulation (README.md there): one YAML file per Istio test case,
// listed in cases/INDEX.tsv, and skipped.tsv for what the data leaves out.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseYamlObject } from '../../../src/config/yaml.js';

export const SHARED = resolve(process.env.MESHD_SHARED ?? join(import.meta.dirname, '..', '..', '..', '..', 'shared'));
export const DIR = join(SHARED, 'istio', 'simulation');

type Obj = Record<string, unknown>;

export interface CaseProxy {
  type: 'sidecar' | 'router';
  id: string;
  ips?: string[];
  namespace?: string;
  dnsDomain?: string;
  istioVersion?: string;
  labels?: Record<string, string>;
  metadata?: Obj;
  clusterID?: string;
}

/** A call as the case writes it; absent fields take Call.FillDefaults' defaults. */
export interface CaseCall {
  address?: string;
  port?: number;
  protocol?: string;
  tls?: string;
  alpn?: string;
  sni?: string;
  host?: string;
  path?: string;
  headers?: Record<string, string[]>;
  mode?: string;
  mtlsSecretConfigName?: string;
  filterChainValidations?: Obj[];
}

/** The six fields the simulator records, as the case names them. */
export const RESULT_FIELDS = ['listener', 'filterChain', 'routeConfig', 'virtualHost', 'route', 'cluster'] as const;
export type ResultField = (typeof RESULT_FIELDS)[number];

export type Expectation = { error: string; strictMatch?: boolean } & Partial<Record<ResultField, string>>;

export interface CaseExpect {
  name: string;
  goName?: string;
  call: CaseCall;
  expect: Expectation;
  note?: string;
}

export interface SimCase {
  file: string;
  name: string;
  source: { file: string; test: string; case: string; harness: string; [k: string]: unknown };
  flags?: Record<string, unknown>;
  mesh?: Obj;
  config?: Obj[];
  kube?: Obj[];
  registry?: Obj;
  proxy: CaseProxy;
  validate: string[];
  calls: CaseExpect[];
}

function tsv(file: string): Array<Record<string, string>> {
  const [head, ...rows] = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const keys = head!.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [keys[i] ?? String(i), v])));
}

export function loadCases(dir = DIR): SimCase[] {
  return tsv(join(dir, 'cases', 'INDEX.tsv')).map((row) => {
    const file = row.file!;
    const c = parseYamlObject(readFileSync(join(dir, 'cases', file), 'utf8'), file) as unknown as SimCase;
    if (c.calls.length !== Number(row.calls)) {
      throw new Error(`${file}: ${c.calls.length} calls, INDEX.tsv says ${row.calls}`);
    }
    return { ...c, file };
  });
}

export interface Skipped {
  test: string;
  case: string;
  scope: string;
  reason: string;
}

export function loadSkipped(dir = DIR): Skipped[] {
  return tsv(join(dir, 'skipped.tsv')).map((r) => ({
    test: r.test ?? '',
    case: r.case ?? '',
    scope: r.scope ?? '',
    reason: r.reason ?? '',
  }));
}
