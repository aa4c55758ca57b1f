// Property-based fuzzing (fast-check) of the injector, the Go template engine and the validators. Each runs
// for FUZZ_SECONDS / 3 (default 60 s in all). A crash is any error other than the one the component
// declares for bad input; a counterexample found here becomes a regression case in test/unit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { GoTemplate, TemplateExecError, TemplateSyntaxError } from '../../src/gotemplate/index.js';
import { injectPod, InjectionError } from '../../src/inject/inject.js';
import { VALIDATORS } from '../../src/validation/kinds/index.js';
import { validateObject } from '../../src/validation/validate.js';
import type { Pod } from '../../src/types.js';
import { testSettings } from '../helpers/settings.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const budget = { interruptAfterTimeLimit: (SECONDS * 1000) / 3, numRuns: Number.MAX_SAFE_INTEGER, markInterruptAsFailure: false };
const TIMEOUT = { timeout: SECONDS * 1000 + 60_000 };

// Keys and values that reach Istio's annotation parsers, YAML decoding and template interpolation.
const ANNOTATION_KEYS = [
  'sidecar.istio.io/inject', 'sidecar.istio.io/proxyCPU', 'sidecar.istio.io/proxyMemory', 'sidecar.istio.io/interceptionMode',
  'traffic.sidecar.istio.io/includeOutboundIPRanges', 'traffic.sidecar.istio.io/excludeInboundPorts', 'proxy.istio.io/config',
  'sidecar.istio.io/userVolume', 'sidecar.istio.io/userVolumeMount', 'sidecar.istio.io/statsInclusionPrefixes', 'inject.istio.io/templates',
  'sidecar.istio.io/logLevel', 'status.sidecar.istio.io/port', 'readiness.status.sidecar.istio.io/initialDelaySeconds', 'prometheus.io/scrape',
  'sidecar.istio.io/nativeSidecar', 'sidecar.istio.io/agentLogLevel', 'x.example.com/free',
];
const tricky = fc.oneof(
  fc.string(),
  fc.constantFrom('{{ .Values }}', '}}', 'a: &a [*a]', '*a', '[1,2', '{"concurrency": -1}', 'true', 'false', '0', '-1', '1e9', '10.0.0.0/8,*', '15020', '', ' ', '\u0000', 'ä\ud800'),
  fc.json(),
);
const extraFields = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['name', 'image'].includes(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const container = fc.record({ name: fc.constantFrom('app', 'istio-proxy', 'istio-init', 'side', 'x'), image: fc.constantFrom('nginx', 'auto', ''), extra: extraFields });
const pod = fc.record({
  annotations: fc.dictionary(fc.constantFrom(...ANNOTATION_KEYS), tricky, { maxKeys: 5 }),
  labels: fc.dictionary(fc.constantFrom('app', 'version', 'sidecar.istio.io/inject', 'istio.io/rev', 'service.istio.io/canonical-name'), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
  containers: fc.uniqueArray(container, { minLength: 1, maxLength: 3, selector: (c) => c.name }),
  specExtra: extraFields,
});

function toPod(p: { annotations: Record<string, unknown>; labels: Record<string, string>; containers: Array<{ name: string; image: string; extra: Record<string, unknown> }>; specExtra: Record<string, unknown> }): Pod {
  const annotations = Object.fromEntries(Object.entries(p.annotations).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  // Through JSON, as the API server's requests arrive (fast-check also makes null-prototype objects).
  return JSON.parse(JSON.stringify({
    metadata: { name: 'fuzz', namespace: 'shop', annotations, labels: p.labels },
    spec: { ...p.specExtra, containers: p.containers.map((c) => ({ ...c.extra, name: c.name, image: c.image })) },
  })) as Pod;
}

describe('fuzzing', () => {
  it('the injector answers every pod with a patch, a skip or an InjectionError, and the patch keeps what it does not model', TIMEOUT, (t) => {
    const settings = testSettings({ native: false });
    let runs = 0;
    fc.assert(
      fc.property(pod, (p) => {
        runs++;
        const input = toPod(p);
        const before = structuredClone(input);
        let result;
        try {
          result = injectPod(input, 'shop', settings);
        } catch (e) {
          if (e instanceof InjectionError) return;
          throw e;
        }
        assert.deepEqual(input, before, 'the input is not mutated');
        if (result.kind === 'skipped') return;
        const out = jsonpatch.applyPatch(structuredClone(before), result.patch as never, true, false).newDocument as Pod;
        const outContainers = [...(out.spec?.containers ?? []), ...(out.spec?.initContainers ?? [])];
        for (const c of (before.spec?.containers ?? []).filter((x) => !['istio-proxy', 'istio-init'].includes(x.name))) {
          const kept = outContainers.find((x) => x.name === c.name);
          assert.ok(kept, `container ${c.name} kept`);
          for (const k of Object.keys(c)) assert.ok(k in (kept as object), `field ${k} of ${c.name} kept`);
        }
        for (const k of Object.keys(before.spec ?? {})) assert.ok(k in (out.spec ?? {}), `spec.${k} kept`);
      }),
      budget,
    );
    t.diagnostic(`${runs} pods`);
  });

  it('the template engine parses or reports a syntax error, and executes or reports an exec error', TIMEOUT, (t) => {
    let runs = 0;
    const pieces = fc.constantFrom('{{', '}}', '{{-', '-}}', ' .Values.a ', '.x', '$v := 1', 'if', 'else', 'end', 'range', 'with', 'define "t"', 'template "t" .', 'block "b" .', '|', 'toJson', 'index . "a"', 'printf "%d"', '(', ')', '"s"', '`r`', '1', 'nil', 'default 1', 'len', 'and', 'or', 'not', 'eq 1 2', '/*', '*/', ' ', '\n', 'text');
    const text = fc.oneof(fc.string(), fc.array(pieces, { maxLength: 25 }).map((a) => a.join('')));
    fc.assert(
      fc.property(text, fc.jsonValue({ maxDepth: 3 }), (source, data) => {
        runs++;
        let tpl: GoTemplate;
        try {
          tpl = GoTemplate.parse('fuzz', source);
        } catch (e) {
          if (e instanceof TemplateSyntaxError) return;
          throw e;
        }
        try {
          assert.equal(typeof tpl.execute({ Values: data, x: data }), 'string');
        } catch (e) {
          if (e instanceof TemplateExecError) return;
          throw e;
        }
      }),
      budget,
    );
    t.diagnostic(`${runs} templates`);
  });

  it('the validators give a verdict for any spec of any Istio kind', TIMEOUT, (t) => {
    let runs = 0;
    const kinds = Object.keys(VALIDATORS);
    const fieldNames = fc.constantFrom('hosts', 'http', 'tcp', 'tls', 'route', 'match', 'destination', 'host', 'subset', 'weight', 'port', 'number', 'servers', 'selector', 'rules', 'from', 'to', 'when', 'action', 'trafficPolicy', 'subsets', 'labels', 'mtls', 'mode', 'portLevelMtls', 'configPatches', 'workloadSelector', 'egress', 'ingress', 'timeout', 'retries', 'fault', 'tracing', 'metrics', 'url', 'phase', 'exportTo', 'endpoints', 'address', 'ports', 'name', 'protocol');
    const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fieldNames, tie('v'), { maxKeys: 4 })),
    })).v;
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.constantFrom('v1', 'v1beta1', 'v1alpha3', 'v1alpha1'), fc.dictionary(fieldNames, value, { maxKeys: 5 }), (key, version, spec) => {
        runs++;
        const [group, kind] = key.split('/') as [string, string];
        const object = JSON.parse(JSON.stringify({ apiVersion: `${group}/${version}`, kind, metadata: { name: 'fuzz', namespace: 'default' }, spec }));
        const verdict = validateObject(object);
        assert.equal(typeof verdict.allowed, 'boolean');
        if (!verdict.allowed) assert.ok((verdict.message ?? '').length > 0);
      }),
      budget,
    );
    t.diagnostic(`${runs} objects`);
  });
});
