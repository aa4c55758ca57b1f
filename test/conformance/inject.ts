// Runs Istio's own injection goldens (../shared/istio/inject, cases.tsv) through meshd's webhook path
// and prints how many match. Each case's settings are translated into injector values, mesh config and
// feature flags as Istio's inject_test.go sets them; workloads become pods the way its objectToPod does;
// the returned JSONPatch is applied and the pod compared with the golden after Go's normalisation,
// ignoring only the sidecar.istio.io/status annotation.
//
// Usage: tsx test/conformance/inject.ts [--templates=meshd|istio|both] [--verbose] [--case NAME]
import jsonpatch from 'fast-json-patch';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { injectorConfigFromValues } from '../../src/config/injector.js';
import { meshConfigFromYaml, mergeProxyConfig } from '../../src/config/mesh.js';
import { mergeValues, normalizeValuesInput } from '../../src/config/values.js';
import { parseYamlObject, parseYamlStream } from '../../src/config/yaml.js';
import { reviewInjection } from '../../src/inject/review.js';
import { canonicalQuantity } from '../../src/kube/quantity.js';
import type { InjectionSettings, InjectorConfig, InjectorValues, MeshConfig, Pod } from '../../src/types.js';

export const SHARED = resolve(process.env.MESHD_SHARED ?? join(import.meta.dirname, '..', '..', '..', 'shared'));
export const INJECT_DIR = join(SHARED, 'istio', 'inject');
export const FIXTURES = join(SHARED, 'istio', 'inject-fixtures');

type Obj = Record<string, unknown>;

interface CaseSettings {
  values: Obj;
  mesh: (m: MeshConfig) => void;
  native: boolean[];
  compliancePolicy: string;
  openshift: boolean;
}

export interface Case {
  input: string;
  golden: string;
  settings: string;
  paths: string;
}

export function parseCases(): Case[] {
  const lines = readFileSync(join(INJECT_DIR, 'cases.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [input = '', golden = '', settings = '', paths = ''] = l.split('\t');
      return { input, golden, settings: settings.replace(/^"|"$/g, '').replace(/""/g, '"'), paths };
    });
}

/** A --set flag's value as Helm reads it: booleans and integers are typed, the rest are strings. */
function setValue(v: string): unknown {
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^-?\d+$/.test(v)) return Number(v);
  return v;
}

function setPath(target: Obj, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = target;
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Obj;
  cur[keys[keys.length - 1]!] = value;
}

/** Installs --set flags the way istioctl's manifest rendering maps them onto the istiod chart values. */
function applySetFlags(values: Obj, flags: string[], defaultPrefix = ''): void {
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    let key = flag.slice(0, eq);
    const value = setValue(flag.slice(eq + 1));
    if (key === 'components.cni.enabled') key = 'values.pilot.cni.enabled';
    if (key.startsWith('values.cni.')) key = `values.pilot.cni.${key.slice('values.cni.'.length)}`;
    if (!key.startsWith('values.')) key = `${defaultPrefix}${key}`;
    setPath(values, key.slice('values.'.length), value);
  }
}

/** Maps the settings column of cases.tsv to injector settings, as inject_test.go's case table does. */
export function caseSettings(text: string): CaseSettings {
  const s: CaseSettings = { values: {}, mesh: () => {}, native: [true], compliancePolicy: '', openshift: false };
  const statusParams = ['values.global.proxy.statusPort=123', 'readinessInitialDelaySeconds=100', 'readinessPeriodSeconds=200', 'readinessFailureThreshold=300'];
  if (text.startsWith('default') || text.startsWith('expectedLog')) {
    if (text.includes('again with native sidecars disabled')) s.native = [true, false];
    return s;
  }
  if (text.startsWith('setup:') || text.startsWith('--set components.cni.enabled=true; env PLATFORM=openshift')) {
    if (text.includes('native sidecars disabled') || text.includes('EnableNativeSidecars=disabled')) s.native = [false];
    if (text.includes('fips-140-3')) s.compliancePolicy = 'fips-140-3';
    if (text.includes('PLATFORM=openshift')) {
      s.openshift = true;
      applySetFlags(s.values, ['components.cni.enabled=true']);
    }
    return s;
  }
  if (text === 'same --set as status_params') {
    applySetFlags(s.values, statusParams, 'values.global.proxy.');
    return s;
  }
  if (text.startsWith('--set includeIPRanges=')) {
    const flags = text.replace(/^--set /, '').replace(/ \(all values\.global\.proxy\.\*\)$/, '').split(' ');
    applySetFlags(s.values, flags, 'values.global.proxy.');
    return s;
  }
  if (text.startsWith('--set values.global.proxy.statusPort=123')) {
    applySetFlags(s.values, statusParams, 'values.global.proxy.');
    return s;
  }
  if (text.startsWith('--set ')) {
    applySetFlags(s.values, text.slice('--set '.length).split(' '));
    return s;
  }
  if (text.startsWith('IstioOperator file ')) {
    const file = text.slice('IstioOperator file '.length).split(' ')[0]!;
    s.values = normalizeValuesInput(parseYamlObject(readFileSync(join(INJECT_DIR, 'inject', file), 'utf8'), file));
    return s;
  }
  if (text.startsWith('as hello-openshift')) {
    s.openshift = true;
    applySetFlags(s.values, ['components.cni.enabled=true']);
    return s;
  }
  const meshEdits: Record<string, (m: MeshConfig) => void> = {
    'mesh: defaultConfig.interceptionMode=TPROXY': (m) => (m.defaultConfig!.interceptionMode = 'TPROXY'),
    'mesh: interceptionMode=TPROXY': (m) => (m.defaultConfig!.interceptionMode = 'TPROXY'),
    'mesh: defaultConfig.drainDuration=23s': (m) => (m.defaultConfig!.drainDuration = '23s'),
    'mesh: defaultConfig.tracing={}': (m) => (m.defaultConfig!.tracing = {}),
    'mesh: inboundTrafficPolicy.mode=LOCALHOST': (m) => (m.inboundTrafficPolicy = { mode: 'LOCALHOST' }),
    'mesh: defaultConfig.proxyMetadata[ISTIO_META_TLS_CLIENT_KEY]=/etc/identity/...': (m) =>
      (m.defaultConfig = mergeProxyConfig(m.defaultConfig!, { proxyMetadata: { ISTIO_META_TLS_CLIENT_KEY: '/etc/identity/client/keys/client-key.pem' } })),
    'mesh: extensionProviders += opentelemetry with serviceAttributeEnrichment=OTEL_SEMANTIC_CONVENTIONS': (m) =>
      (m.extensionProviders = [
        ...((m.extensionProviders as unknown[]) ?? []),
        { name: 'otel', opentelemetry: { service: 'otel-collector.observability.svc.cluster.local', port: 4317, serviceAttributeEnrichment: 'OTEL_SEMANTIC_CONVENTIONS' } },
      ]),
  };
  const edit = meshEdits[text];
  if (!edit) throw new Error(`conformance harness does not know the settings "${text}"`);
  s.mesh = edit;
  return s;
}

/** Istio's own templates, handed to meshd as an operator's istio-sidecar-injector ConfigMap would. */
export function istioTemplates(): Record<string, string> {
  const t = (f: string): string => readFileSync(join(FIXTURES, f), 'utf8');
  return {
    sidecar: t('template.injection-template.yaml'),
    gateway: t('template.gateway-injection-template.yaml'),
    'grpc-agent': t('template.grpc-agent.yaml'),
    'grpc-simple': t('template.grpc-simple.yaml'),
  };
}

const WORKLOAD_KINDS = new Set(['Deployment', 'DeploymentConfig', 'DaemonSet', 'StatefulSet', 'Job', 'ReplicaSet', 'ReplicationController', 'CronJob', 'Pod']);

export function injectableDocs(file: string): Obj[] {
  const docs = parseYamlStream(readFileSync(join(INJECT_DIR, 'inject', file), 'utf8'), file) as Obj[];
  return docs.flatMap((d) => (d.kind === 'List' ? ((d.items as Obj[]) ?? []) : [d])).filter((d) => WORKLOAD_KINDS.has(String(d.kind)));
}

function groupVersion(apiVersion: unknown): string {
  return String(apiVersion ?? '');
}

/** inject_test's objectToPod: a workload's pod template with a simulated controller owner. */
export function objectToPod(obj: Obj): Pod {
  const kind = String(obj.kind);
  const meta = (obj.metadata ?? {}) as Obj;
  if (kind === 'Pod') return structuredClone(obj) as Pod;
  const spec = (obj.spec ?? {}) as Obj;
  const template = structuredClone(
    (kind === 'CronJob' ? (((spec.jobTemplate as Obj).spec as Obj).template as Obj) : (spec.template as Obj)) ?? {},
  ) as Obj;
  const tmeta = ((template.metadata as Obj | undefined) ?? {}) as Obj;
  const owner = (name: string, apiVersion: string, k: string): void => {
    tmeta.generateName = name;
    tmeta.ownerReferences = [{ apiVersion, kind: k, name, controller: true }];
  };
  if (kind === 'Deployment') {
    owner(`${String(meta.name)}-fake`, 'apps/v1', 'ReplicaSet');
    tmeta.generateName = `${String(tmeta.generateName)}-`;
    tmeta.labels = { ...((tmeta.labels as Obj) ?? {}), 'pod-template-hash': 'fake' };
  } else owner(String(meta.name), groupVersion(obj.apiVersion), kind);
  return { metadata: tmeta, spec: template.spec } as Pod;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const OMITEMPTY_INTS = new Set(['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'hostPort']);

/** What Go's json round trip of a corev1.Pod does: empty structs and nulls vanish, quantities are canonical. */
export function goNormalize(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => goNormalize(x));
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === null || x === undefined) continue;
      let n = goNormalize(x, k);
      if ((key === 'limits' || key === 'requests') && (typeof n === 'string' || typeof n === 'number')) n = canonicalQuantity(n);
      if (isObj(n) && Object.keys(n).length === 0 && k !== 'emptyDir') continue;
      if (Array.isArray(n) && n.length === 0 && k !== 'containers') continue;
      // Go omits empty strings and zero int32s of omitempty fields; both sides get the same treatment.
      if (n === '') continue;
      if (n === 0 && OMITEMPTY_INTS.has(k)) continue;
      out[k] = n;
    }
    return out;
  }
  return v;
}

function normalizePod(p: Pod, clearFieldRefApiVersion: boolean): unknown {
  const pod = structuredClone(p);
  delete pod.metadata?.annotations?.['sidecar.istio.io/status'];
  if (clearFieldRefApiVersion) {
    for (const c of pod.spec?.containers ?? []) for (const e of c.env ?? []) delete (e.valueFrom?.fieldRef as Obj | undefined)?.apiVersion;
  }
  return goNormalize({ metadata: pod.metadata, spec: pod.spec });
}

export function diffPaths(a: unknown, b: unknown, path = ''): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (isObj(a) && isObj(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => diffPaths(a[k], b[k], `${path}.${k}`));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => diffPaths(x, b[i], `${path}[${i}]`));
  return [`${path}: got ${JSON.stringify(a)?.slice(0, 300)} want ${JSON.stringify(b)?.slice(0, 300)}`];
}

export function baseSettings(): { values: InjectorValues; mesh: MeshConfig } {
  const values = normalizeValuesInput(JSON.parse(readFileSync(join(FIXTURES, 'injector-values.test-default.json'), 'utf8')) as Obj);
  return { values, mesh: meshConfigFromYaml(readFileSync(join(FIXTURES, 'mesh.test-default.yaml'), 'utf8')) };
}

function runCase(c: Case, templates: 'meshd' | 'istio', verbose: boolean): { ok: boolean; detail: string[] } {
  const cs = caseSettings(c.settings);
  const base = baseSettings();
  const values = mergeValues(base.values, cs.values);
  const mesh = structuredClone(base.mesh);
  cs.mesh(mesh);
  let config: InjectorConfig = injectorConfigFromValues(values);
  if (templates === 'istio') {
    const userTemplates = ((values.sidecarInjectorWebhook as Obj)?.templates ?? {}) as Record<string, string>;
    config = { ...config, templates: { ...istioTemplates(), ...userTemplates } };
  }
  const inputs = injectableDocs(c.input);
  const wants = injectableDocs(c.golden);
  if (inputs.length !== wants.length) return { ok: false, detail: [`${inputs.length} input workloads but ${wants.length} golden workloads`] };
  const detail: string[] = [];
  for (const native of cs.native) {
    inputs.forEach((input, i) => {
      const pod = objectToPod(input);
      const namespace = String(((input.metadata as Obj | undefined) ?? {}).namespace ?? '');
      const settings: InjectionSettings = {
        config,
        values,
        mesh,
        revision: String(values.revision ?? ''),
        nativeSidecars: native,
        proxyEnvs: {},
        compliancePolicy: cs.compliancePolicy,
        ...(cs.openshift ? { openshiftNamespaceAnnotations: { 'openshift.io/sa.scc.uid-range': '1000620000/10000', 'openshift.io/sa.scc.supplemental-groups': '1000620000/10000' } } : {}),
      };
      const review = {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { uid: `case-${i}`, operation: 'CREATE', namespace, object: pod },
      };
      const text = JSON.stringify(review);
      const { review: out } = reviewInjection(JSON.parse(text), '/inject', (_p, _ns, envs) => ({ ...settings, proxyEnvs: envs }), {
        warn: () => {},
        info: () => {},
      }, text);
      const resp = out.response!;
      if (!resp.allowed) {
        detail.push(`[native=${native}] denied: ${resp.status?.message}`);
        return;
      }
      let got = structuredClone(pod);
      if (resp.patch) got = jsonpatch.applyPatch(got, JSON.parse(Buffer.from(resp.patch, 'base64').toString('utf8')) as jsonpatch.Operation[], true, false).newDocument;
      const want = objectToPod(wants[i]!);
      const diffs = diffPaths(normalizePod(got, true), normalizePod(want, false));
      if (diffs.length > 0) detail.push(...diffs.map((d) => `[native=${native} doc=${i}] ${d}`));
      if (verbose && diffs.length > 0 && process.env.DUMP) console.log(JSON.stringify(normalizePod(got, true), null, 1));
    });
  }
  return { ok: detail.length === 0, detail };
}

function main(): void {
  const args = process.argv.slice(2);
  if (!existsSync(join(INJECT_DIR, 'cases.tsv'))) {
    console.log(`conformance:inject skipped: ${INJECT_DIR}/cases.tsv not found (../shared is absent)`);
    return;
  }
  const verbose = args.includes('--verbose');
  const only = args.includes('--case') ? args[args.indexOf('--case') + 1] : undefined;
  const mode = (args.find((a) => a.startsWith('--templates='))?.split('=')[1] ?? 'both') as 'meshd' | 'istio' | 'both';
  const cases = parseCases().filter((c) => c.paths === 'both' || c.paths === 'webhook only').filter((c) => !only || c.golden.includes(only) || c.input.includes(only));
  let failed = false;
  for (const templates of mode === 'both' ? (['meshd', 'istio'] as const) : [mode]) {
    let pass = 0;
    for (const c of cases) {
      let r: { ok: boolean; detail: string[] };
      try {
        r = runCase(c, templates, verbose);
      } catch (e) {
        r = { ok: false, detail: [`harness error: ${(e as Error).stack}`] };
      }
      if (r.ok) pass++;
      else if (verbose) console.log(`FAIL ${c.golden} (${c.settings})\n  ${r.detail.slice(0, 12).join('\n  ')}`);
    }
    const label = templates === 'meshd' ? "meshd's templates" : "Istio's templates as operator config";
    console.log(`${pass}/${cases.length} Istio injection goldens match (${label})`);
    if (templates === 'meshd' && pass < Number(process.env.MESHD_INJECT_CONFORMANCE_MIN ?? 110)) failed = true;
  }
  if (failed) process.exitCode = 1;
}

// Also a library for the side-by-side run against istiod (test/conformance/istiod).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
