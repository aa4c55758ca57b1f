// meshd's own validation cases: for each kind, objects that must pass and objects that must be refused
// with a given message. Istio's corpus is checked separately by the conformance script.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGoDuration } from '../../src/validation/decode.js';
import { parseCel } from '../../src/validation/cel.js';
import { validateExportTo, validateFQDN, validateWildcardDomain } from '../../src/validation/core.js';
import { re2Error, validateHeaderValue } from '../../src/validation/http-rules.js';
import { validateObject } from '../../src/validation/validate.js';

const obj = (apiVersion: string, kind: string, spec: unknown, meta: Record<string, unknown> = {}) => ({ apiVersion, kind, metadata: { name: 'x', namespace: 'ns', ...meta }, spec });
const vs = (spec: unknown, meta?: Record<string, unknown>) => obj('networking.istio.io/v1', 'VirtualService', spec, meta);
const route = { route: [{ destination: { host: 'reviews.ns.svc.cluster.local' } }] };

function ok(o: unknown, warning?: RegExp): void {
  const v = validateObject(o);
  assert.equal(v.allowed, true, v.message);
  if (warning) assert.ok(v.warnings.some((w) => warning.test(w)), `no warning ${warning} in ${JSON.stringify(v.warnings)}`);
  else assert.deepEqual(v.warnings, []);
}

function bad(o: unknown, message: RegExp): void {
  const v = validateObject(o);
  assert.equal(v.allowed, false, `allowed, expected ${message}`);
  assert.match(v.message!, message);
}

describe('shared checks', () => {
  it('parse Go durations', () => {
    assert.equal(parseGoDuration('1h30m'), 5400e9);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.equal(parseGoDuration('-300ms'), -300e6);
    assert.throws(() => parseGoDuration('1d'), /unknown unit "d"/);
    assert.throws(() => parseGoDuration('apple'), /invalid duration "apple"/);
  });
  it('check host names', () => {
    assert.equal(validateFQDN('reviews.NS.svc.'), undefined);
    assert.match(validateFQDN('a.123')!, /cannot be all-numeric/);
    assert.equal(validateWildcardDomain('*.example.com'), undefined);
    assert.equal(validateWildcardDomain('*foo.example.com'), undefined);
    assert.match(validateWildcardDomain('foo.*.com')!, /label "\*" invalid/);
  });
  it('check exportTo', () => {
    assert.equal(validateExportTo('ns', ['.', 'other'], false, false), undefined);
    assert.match(validateExportTo('ns', ['*', 'other'], false, false)!, /both public/);
    assert.match(validateExportTo('ns', ['~'], false, false)!, /not allowed for Istio configuration objects/);
    assert.equal(validateExportTo('ns', ['~'], true, false), undefined);
  });
  it('accept RE2 and refuse what RE2 lacks', () => {
    assert.equal(re2Error('(?i)^/api/[a-z]+$'), undefined);
    assert.match(re2Error('(?=x)')!, /invalid or unsupported Perl syntax/);
    assert.match(re2Error('(a)\\1')!, /invalid escape/);
    assert.match(re2Error('[unclosed')!, /error parsing regexp/);
  });
  it('check Envoy header value syntax', () => {
    assert.equal(validateHeaderValue('%DOWNSTREAM_REMOTE_ADDRESS% and 100%%'), undefined);
    assert.match(validateHeaderValue('50%')!, /Un-escaped %/);
    assert.match(validateHeaderValue('%START_TIME(%s')!, /Un-terminated variable expression/);
  });
  it('parse CEL', () => {
    assert.doesNotThrow(() => parseCel("response.code >= 400 && request.url_path.startsWith('/api') || !has(request.headers['x'])"));
    assert.throws(() => parseCel(')++++'), /Syntax error/);
    assert.throws(() => parseCel('a &&'), /Syntax error/);
  });
});

describe('validation pipeline', () => {
  it('refuses unknown kinds in Istio groups but knows every version', () => {
    bad(obj('networking.istio.io/v1', 'Nonsense', {}), /unrecognized type networking.istio.io\/v1, Kind=Nonsense/);
    ok(obj('networking.istio.io/v1alpha3', 'VirtualService', { hosts: ['a.b'], ...{ http: [route] } }));
  });
  it('refuses unknown top-level fields after validating the spec', () => {
    bad({ ...vs({ hosts: ['a.b'], http: [route] }), extra: 1 }, /unknown field "extra" on VirtualService resource ns\/x/);
    bad({ ...vs({ hosts: ['a.b'] }), extra: 1 }, /http, tcp or tls must be provided/);
  });
  it('reports decoding problems ahead of rule violations', () => {
    bad(vs({ hosts: ['a.b'], http: [{ ...route, timeout: 'soon' }] }), /^error decoding configuration: bad Duration/);
    bad(obj('security.istio.io/v1', 'PeerAuthentication', { mtls: { mode: 'BLAH' } }), /unknown value "BLAH" for enum/);
  });
  it('applies the metadata checks to every kind', () => {
    bad(vs({ hosts: ['a.b'], http: [route] }, { annotations: { 'istio.io/dry-run': 'true' } }), /unsupported annotation istio.io\/dry-run/);
    bad(vs({ hosts: ['a.b'], http: [route] }, { annotations: { 'internal.istio.io/webhook-always-reject': '' } }), /webhook-always-reject/);
    ok(obj('security.istio.io/v1', 'AuthorizationPolicy', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['80'] } }] }] }, { annotations: { 'istio.io/dry-run': 'true' } }));
  });
});

describe('kinds', () => {
  it('VirtualService', () => {
    ok(vs({ hosts: ['reviews'], http: [{ match: [{ uri: { prefix: '/a' } }], ...route }, route] }));
    bad(vs({ hosts: ['*'], http: [route] }), /wildcard host \* is not allowed for virtual services bound to the mesh gateway/);
    bad(vs({ hosts: ['a.b', 'a.b'], http: [route] }), /duplicate hosts in virtual service/);
    bad(vs({ hosts: ['a.b'], http: [{ ...route, redirect: { uri: '/x' } }] }), /both route and redirect/);
    bad(vs({ hosts: ['a.b'], http: [{ ...route, retries: { attempts: 0, retryOn: '5xx' } }] }), /attempts are set to 0/);
    bad(vs({ hosts: ['a.b'], tls: [{ match: [{ sniHosts: ['other.com'] }], route: route.route }] }), /not a compatible subset/);
    ok(vs({ hosts: ['a.b'], http: [route, route] }), /not used \(only the last rule can have no matches\)/);
  });
  it('DestinationRule', () => {
    ok(obj('networking.istio.io/v1', 'DestinationRule', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] }));
    bad(obj('networking.istio.io/v1', 'DestinationRule', { host: 'reviews', subsets: [{ name: 'v1' }, { name: 'v1' }] }), /duplicate subset names: v1/);
    bad(obj('networking.istio.io/v1', 'DestinationRule', { host: 'r', trafficPolicy: { loadBalancer: { consistentHash: { maglev: { tableSize: 1000 } } } } }), /prime number/);
    bad(obj('networking.istio.io/v1', 'DestinationRule', { host: 'r', trafficPolicy: { tls: { mode: 'MUTUAL' } } }), /client certificate required/);
  });
  it('Gateway', () => {
    ok(obj('networking.istio.io/v1', 'Gateway', { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*.example.com'], tls: { mode: 'SIMPLE', credentialName: 'cert' } }] }));
    bad(obj('networking.istio.io/v1', 'Gateway', { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['a.b'] }] }), /must have TLS settings/);
    bad(obj('networking.istio.io/v1', 'Gateway', { servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['short'] }] }), /short names/);
  });
  it('ServiceEntry, WorkloadEntry, WorkloadGroup', () => {
    ok(obj('networking.istio.io/v1', 'ServiceEntry', { hosts: ['api.example.com'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], resolution: 'DNS' }));
    bad(obj('networking.istio.io/v1', 'ServiceEntry', { hosts: ['a.b'], addresses: ['10.0.0.0/8'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' }), /CIDR addresses are allowed only/);
    bad(obj('networking.istio.io/v1', 'WorkloadEntry', {}), /address is required/);
    bad(obj('networking.istio.io/v1', 'WorkloadGroup', {}), /template is required/);
  });
  it('Sidecar', () => {
    ok(obj('networking.istio.io/v1', 'Sidecar', { egress: [{ hosts: ['./*', 'istio-system/*'] }] }));
    bad(obj('networking.istio.io/v1', 'Sidecar', {}), /sidecar: empty configuration provided/);
    bad(obj('networking.istio.io/v1', 'Sidecar', { egress: [{ hosts: ['bad'] }] }), /host must be of form namespace\/dnsName/);
  });
  it('security kinds', () => {
    bad(obj('security.istio.io/v1', 'AuthorizationPolicy', { rules: [{ when: [{ key: 'source.ip', values: ['nope'] }] }] }), /^configuration is invalid: invalid policy x\.ns: invalid `value` for `key` source\.ip/);
    bad(obj('security.istio.io/v1', 'RequestAuthentication', { jwtRules: [{ jwksUri: 'ftp://x' }] }), /issuer or jwksUri|URI scheme "ftp" is not supported/);
    bad(obj('security.istio.io/v1', 'PeerAuthentication', { portLevelMtls: { 8080: { mode: 'STRICT' } } }), /cannot have port level mTLS/);
  });
  it('telemetry and extensions', () => {
    ok(obj('telemetry.istio.io/v1', 'Telemetry', { accessLogging: [{ providers: [{ name: 'envoy' }], filter: { expression: 'response.code >= 500' } }] }));
    bad(obj('telemetry.istio.io/v1', 'Telemetry', { tracing: [{ randomSamplingPercentage: 101 }] }), /randomSamplingPercentage/);
    bad(obj('extensions.istio.io/v1alpha1', 'WasmPlugin', { url: 'ftp://x/y.wasm' }), /unsupported scheme: ftp/);
    ok(obj('networking.istio.io/v1alpha3', 'EnvoyFilter', { configPatches: [{ applyTo: 'CLUSTER', patch: { operation: 'REMOVE' } }] }), /EnvoyFilter exposes internal implementation details/);
    bad(obj('networking.istio.io/v1alpha3', 'EnvoyFilter', { configPatches: [{ applyTo: 'CLUSTER', patch: { operation: 'ADD' } }] }), /missing patch value/);
  });
});
