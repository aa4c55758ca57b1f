// Property-based fuzzing (fast-check) of the injector, the Go template engine, the validators and the xDS
// generators. Each runs for FUZZ_SECONDS / 4 (default 60 s in all). A crash is any error other than the one the component
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
import { defaultMeshConfig } from '../../src/config/mesh.js';
import { ObjectStore, type KubeObject } from '../../src/kube/store.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { toStruct } from '../../src/xds/gen/common.js';
import { ResourceGenerator } from '../../src/xds/generator.js';
import { parseProxy } from '../../src/xds/proxy.js';
import { TYPE } from '../../src/xds/protos.js';
import { buildPushContext } from '../../src/xds/updates.js';
import { service, workloadObjects } from '../helpers/mesh-objects.js';
import { pod, toPod } from './pods.js';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 60);
const budget = { interruptAfterTimeLimit: (SECONDS * 1000) / 4, numRuns: Number.MAX_SAFE_INTEGER, markInterruptAsFailure: false };
const TIMEOUT = { timeout: SECONDS * 1000 + 60_000 };

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

  it('the xDS generators turn any config that passes validation into resources that encode', TIMEOUT, (t) => {
    let runs = 0;
    let admitted = 0;
    // Mostly valid values with some wild ones, so that a fair share of configs passes validation.
    const mostly = <T, U>(valid: fc.Arbitrary<T>, wild: fc.Arbitrary<U>): fc.Arbitrary<T | U> => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: wild, weight: 1 });
    const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 2 });
    // Istio's name checks accept upper case (subset `V1`, host `Echo.Default...`): mixed-case names included.
    const host = mostly(fc.constantFrom('echo', 'echo.default.svc.cluster.local'), fc.constantFrom('other', '*.default.svc.cluster.local', '*', 'a.example.com', 'A.Example.COM'));
    const str = mostly(fc.constantFrom('v1', 'v2', '/a', '/'), fc.string({ maxLength: 6 }));
    const regex = mostly(fc.constantFrom('^/a.*', '.*', '[a-z]+'), fc.constantFrom('[', '(?i)x', ''));
    const stringMatch = fc.oneof(fc.record({ exact: str }), fc.record({ prefix: str }), fc.record({ regex }));
    const destination = fc.record({ host, subset: opt(mostly(fc.constantFrom('v1', 'v2', 'V1'), fc.constantFrom('nope', 'a b', 'V_1'))), port: opt(fc.record({ number: mostly(fc.constant(7070), fc.integer({ min: -1, max: 70000 })) })) }, { requiredKeys: ['host'] });
    const duration = mostly(fc.constantFrom('1s', '100ms', '1.5s', '2m'), fc.constantFrom('x', '0s', '1ns', '-1s'));
    const percentage = opt(fc.record({ value: mostly(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: -5, max: 500, noNaN: true })) }));
    const weighted = mostly(
      fc.constant([{ destination: { host: 'echo', subset: 'v1' }, weight: 90 }, { destination: { host: 'echo', subset: 'v2' }, weight: 10 }]),
      fc.array(fc.record({ destination, weight: opt(fc.integer({ min: -1, max: 200 })) }, { requiredKeys: ['destination'] }), { maxLength: 3 }),
    );
    const httpRoute = fc.record({
      name: opt(str),
      match: opt(fc.array(fc.record({ uri: stringMatch, headers: fc.dictionary(fc.constantFrom('x-v', 'x-up'), stringMatch, { maxKeys: 2 }), port: opt(mostly(fc.constant(7070), fc.integer({ min: 0, max: 70000 }))), ignoreUriCase: fc.boolean(), withoutHeaders: fc.dictionary(fc.constantFrom('x-no'), stringMatch, { maxKeys: 1 }) }, { requiredKeys: [] }), { maxLength: 2 })),
      route: fc.oneof(weighted, fc.array(fc.record({ destination }), { minLength: 1, maxLength: 1 })),
      timeout: opt(duration),
      retries: opt(fc.record({ attempts: mostly(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -1, max: 100 })), retryOn: fc.constantFrom('5xx', 'unavailable,503', 'gateway-error,connect-failure', 'x'), perTryTimeout: duration }, { requiredKeys: [] })),
      fault: opt(fc.record({ delay: fc.record({ fixedDelay: duration, percentage }), abort: fc.oneof(fc.record({ httpStatus: mostly(fc.integer({ min: 200, max: 599 }), fc.integer({ min: 0, max: 700 })), percentage }), fc.record({ grpcStatus: fc.constantFrom('UNAVAILABLE', 'NOPE'), percentage })) }, { requiredKeys: [] })),
      mirror: opt(destination),
      rewrite: opt(fc.record({ uri: str, authority: str }, { requiredKeys: [] })),
      headers: opt(fc.record({ request: fc.record({ set: fc.dictionary(fc.constantFrom('x-a', 'x-b'), str, { maxKeys: 2 }), remove: fc.array(fc.constantFrom('x-c'), { maxLength: 1 }) }, { requiredKeys: [] }) })),
    }, { requiredKeys: ['route'] });
    const big = mostly(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: -1, max: 2 ** 33 }));
    const policy = fc.record({
      loadBalancer: fc.oneof(fc.record({ simple: fc.constantFrom('ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'PASSTHROUGH', 'X') }), fc.record({ consistentHash: fc.oneof(fc.record({ httpHeaderName: str }), fc.record({ useSourceIp: fc.boolean() }), fc.record({ httpCookie: fc.record({ name: str, ttl: duration }) })) })),
      connectionPool: fc.record({ tcp: fc.record({ maxConnections: big, connectTimeout: duration }, { requiredKeys: [] }), http: fc.record({ http2MaxRequests: big, maxRequestsPerConnection: big }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      outlierDetection: fc.record({ consecutive5xxErrors: big, interval: duration, maxEjectionPercent: mostly(fc.integer({ min: 0, max: 100 }), fc.integer({ min: -1, max: 200 })) }, { requiredKeys: [] }),
      tls: fc.record({ mode: fc.constantFrom('ISTIO_MUTUAL', 'SIMPLE', 'MUTUAL', 'DISABLE'), credentialName: opt(fc.constantFrom('cred', 'x y')), sni: opt(str) }, { requiredKeys: ['mode'] }),
    }, { requiredKeys: [] });
    const base = [service('echo', 'default', 7070, { app: 'echo' }), ...workloadObjects('echo', 'default', { name: 'echo-v1', labels: { app: 'echo', version: 'v1' }, port: 7070, address: '10.1.0.1' })];
    const grpc = parseProxy({ id: 'sidecar~10.0.0.1~c.default~default.svc.cluster.local', metadata: toStruct({ GENERATOR: 'grpc' }) as never });
    const envoy = parseProxy({ id: 'sidecar~10.1.0.1~echo-v1.default~default.svc.cluster.local', metadata: toStruct({ NAMESPACE: 'default', LABELS: { app: 'echo' } }) as never });
    const logger = createLogger('silent');
    fc.assert(
      fc.property(fc.array(host, { minLength: 1, maxLength: 2 }), fc.array(httpRoute, { minLength: 1, maxLength: 3 }), host, fc.uniqueArray(fc.record({ name: mostly(fc.constantFrom('v1', 'v2', 'V1', 'Canary-A'), fc.constantFrom('bad name', 'V_1')), labels: fc.dictionary(fc.constantFrom('version', 'app'), fc.constantFrom('v1', 'v2', 'echo'), { minKeys: 1, maxKeys: 2 }), trafficPolicy: opt(policy) }), { maxLength: 2, selector: (x) => x.name }), opt(policy), (hosts, http, drHost, subsets, trafficPolicy) => {
        runs++;
        const objects = JSON.parse(JSON.stringify([
          ...base,
          { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'vs', namespace: 'default' }, spec: { hosts, http } },
          { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'dr', namespace: 'default' }, spec: { host: drHost, subsets, trafficPolicy } },
        ])) as KubeObject[];
        const store = new ObjectStore();
        store.replaceSource('fuzz', objects);
        const errors: string[] = [];
        const ctx = buildPushContext(store, { domainSuffix: 'cluster.local', mesh: defaultMeshConfig }, logger);
        if (ctx.config.virtualServices.length && ctx.config.destinationRules.length) admitted++;
        const gen = new ResourceGenerator(ctx, (e) => errors.push(`${e.typeUrl} ${e.name}: ${e.error}`));
        const clusters = ['', 'v1', 'v2'].map((s) => `outbound|7070|${s}|echo.default.svc.cluster.local`);
        gen.generate(grpc, TYPE.listener, ['echo.default.svc.cluster.local:7070']);
        gen.generate(grpc, TYPE.route, ['outbound|7070||echo.default.svc.cluster.local']);
        gen.generate(grpc, TYPE.cluster, clusters);
        gen.generate(grpc, TYPE.endpoint, clusters);
        for (const type of [TYPE.listener, TYPE.cluster]) gen.generate(envoy, type, undefined);
        gen.generate(envoy, TYPE.route, ['7070']);
        assert.deepEqual(errors, []);
      }),
      budget,
    );
    t.diagnostic(`${runs} configs, ${admitted} with both objects admitted`);
  });
});
