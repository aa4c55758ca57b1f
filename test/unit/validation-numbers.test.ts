// Number fields as istiod decodes them (legacy jsonpb over encoding/json): a quoted number is that number,
// anything else that is not a number of the field's type fails to decode, ahead of every rule, instead of
// reading as 0 ("port number 0 must be in the range").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goJSONNumber, goNumber } from '../../src/validation/decode.js';
import { validateObject } from '../../src/validation/validate.js';

const object = (apiVersion: string, kind: string, spec: unknown) => ({ apiVersion, kind, metadata: { name: 'x', namespace: 'ns' }, spec });
const net = (kind: string, spec: unknown) => object('networking.istio.io/v1', kind, spec);
const route = (port: unknown) => [{ destination: { host: 'reviews', port: { number: port } } }];
const vs = (http: unknown) => net('VirtualService', { hosts: ['reviews'], http: [http] });
const gateway = (port: unknown) => net('Gateway', { servers: [{ port: { number: port, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] });
const serviceEntry = (ports: unknown, endpoints?: unknown) =>
  net('ServiceEntry', { hosts: ['a.example.com'], ports, resolution: endpoints ? 'STATIC' : 'DNS', ...(endpoints ? { endpoints } : {}) });

/** `want`: 'allowed', or the decoding error's text after "error decoding configuration: ". */
const ROWS: Array<{ name: string; input: unknown; want: string }> = [
  { name: 'Gateway port "http"', input: gateway('http'), want: "invalid character 'h' looking for beginning of value" },
  { name: 'Gateway port "80" (quoted numbers decode)', input: gateway('80'), want: 'allowed' },
  { name: 'Gateway port 80.5', input: gateway(80.5), want: 'json: cannot unmarshal number 80.5 into Go value of type uint32' },
  { name: 'Gateway port -1', input: gateway(-1), want: 'json: cannot unmarshal number -1 into Go value of type uint32' },
  { name: 'Gateway port true', input: gateway(true), want: 'json: cannot unmarshal bool into Go value of type uint32' },
  { name: 'Gateway port ""', input: gateway(''), want: 'unexpected end of JSON input' },
  { name: 'Gateway port "0x50"', input: gateway('0x50'), want: "invalid character 'x' after top-level value" },
  { name: 'Sidecar ingress port "abc"', input: net('Sidecar', { ingress: [{ port: { number: 'abc', protocol: 'HTTP' } }] }), want: "invalid character 'a' looking for beginning of value" },
  { name: 'Sidecar egress targetPort 4294967296', input: net('Sidecar', { egress: [{ port: { number: 80, targetPort: 4294967296 }, hosts: ['*/*'] }] }), want: 'json: cannot unmarshal number 4294967296 into Go value of type uint32' },
  { name: 'ServiceEntry port "https"', input: serviceEntry([{ number: 'https', name: 'https', protocol: 'TLS' }]), want: "invalid character 'h' looking for beginning of value" },
  { name: 'ServiceEntry endpoint port "x"', input: serviceEntry([{ number: 80, name: 'http', protocol: 'HTTP' }], [{ address: '10.0.0.1', ports: { http: 'x' } }]), want: "invalid character 'x' looking for beginning of value" },
  { name: 'WorkloadEntry port {}', input: net('WorkloadEntry', { address: '10.0.0.1', ports: { http: {} } }), want: 'json: cannot unmarshal object into Go value of type uint32' },
  { name: 'VirtualService destination port "http"', input: vs({ route: route('http') }), want: "invalid character 'h' looking for beginning of value" },
  { name: 'VirtualService destination port as a string (a message)', input: vs({ route: [{ destination: { host: 'reviews', port: 'abc' } }] }), want: 'json: cannot unmarshal string into Go value of type map[string]json.RawMessage' },
  { name: 'VirtualService match port "abc"', input: vs({ match: [{ port: 'abc' }], route: route(80) }), want: "invalid character 'a' looking for beginning of value" },
  { name: 'VirtualService match port " 8080 " (whitespace is JSON)', input: vs({ match: [{ port: ' 8080 ' }], route: route(80) }), want: 'allowed' },
  { name: 'VirtualService weight 50.5 (int32)', input: vs({ route: [{ destination: { host: 'a' }, weight: 50.5 }, { destination: { host: 'b' }, weight: 49.5 }] }), want: 'json: cannot unmarshal number 50.5 into Go value of type int32' },
  { name: 'VirtualService fault percentage "ten"', input: vs({ route: route(80), fault: { abort: { httpStatus: 503, percentage: { value: 'ten' } } } }), want: "invalid character 'e' in literal true (expecting 'r')" },
  { name: 'VirtualService tcp route port "x"', input: net('VirtualService', { hosts: ['a'], tcp: [{ route: route('x') }] }), want: "invalid character 'x' looking for beginning of value" },
  { name: 'DestinationRule portLevelSettings port "x" (no rule reads it)', input: net('DestinationRule', { host: 'a', trafficPolicy: { portLevelSettings: [{ port: { number: 'x' }, tls: { mode: 'ISTIO_MUTUAL' } }] } }), want: "invalid character 'x' looking for beginning of value" },
  { name: 'DestinationRule consecutive5xxErrors "five" (no rule reads it)', input: net('DestinationRule', { host: 'a', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 'five' } } }), want: "invalid character 'i' in literal false (expecting 'a')" },
  { name: 'DestinationRule subset tunnel targetPort "x"', input: net('DestinationRule', { host: 'a', subsets: [{ name: 'v1', trafficPolicy: { tunnel: { targetHost: 'a.b', targetPort: 'x' } } }] }), want: "invalid character 'x' looking for beginning of value" },
  { name: 'WorkloadGroup probe port "http"', input: net('WorkloadGroup', { template: {}, probe: { httpGet: { port: 'http' } } }), want: "invalid character 'h' looking for beginning of value" },
  { name: 'EnvoyFilter listener portNumber "x"', input: net('EnvoyFilter', { configPatches: [{ applyTo: 'LISTENER', match: { listener: { portNumber: 'x' } }, patch: { operation: 'REMOVE' } }] }), want: "invalid character 'x' looking for beginning of value" },
  { name: 'WasmPlugin match port "x"', input: object('extensions.istio.io/v1alpha1', 'WasmPlugin', { url: 'oci://a/b', match: [{ ports: [{ number: 'x' }] }] }), want: "invalid character 'x' looking for beginning of value" },
  { name: 'PeerAuthentication port key "http"', input: object('security.istio.io/v1', 'PeerAuthentication', { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { http: { mode: 'STRICT' } } }), want: "invalid character 'h' looking for beginning of value" },
  { name: 'PeerAuthentication port key "-1"', input: object('security.istio.io/v1', 'PeerAuthentication', { selector: { matchLabels: { app: 'a' } }, portLevelMtls: { '-1': { mode: 'STRICT' } } }), want: 'json: cannot unmarshal number -1 into Go value of type uint32' },
  { name: 'a field by its proto name', input: net('DestinationRule', { host: 'a', traffic_policy: { connection_pool: { tcp: { max_connections: 'x' } } } }), want: "invalid character 'x' looking for beginning of value" },
  { name: 'enum as a number beyond int32', input: object('security.istio.io/v1', 'PeerAuthentication', { mtls: { mode: 4294967296 } }), want: 'json: cannot unmarshal number 4294967296 into Go value of type protoreflect.EnumNumber' },
  { name: 'enum as a fraction', input: object('security.istio.io/v1', 'PeerAuthentication', { mtls: { mode: 0.5 } }), want: 'json: cannot unmarshal number 0.5 into Go value of type protoreflect.EnumNumber' },
  { name: 'enum as a list', input: object('security.istio.io/v1', 'AuthorizationPolicy', { action: [] }), want: 'json: cannot unmarshal array into Go value of type protoreflect.EnumNumber' },
  { name: 'enum as an in-range number', input: object('security.istio.io/v1', 'PeerAuthentication', { mtls: { mode: 3 } }), want: 'allowed' },
  { name: 'Telemetry sampling "50" decodes', input: object('telemetry.istio.io/v1', 'Telemetry', { tracing: [{ randomSamplingPercentage: '50' }] }), want: 'allowed' },
];

describe('number fields decode as in istiod', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const v = validateObject(row.input);
      if (row.want === 'allowed') assert.equal(v.allowed, true, v.message);
      else assert.equal(v.message, `error decoding configuration: ${row.want}`);
    });
  }

  it("encoding/json's errors for a number's text (checked against Go 1.26)", () => {
    const rows: Array<{ input: string; uint32: string | number; int32: string | number; float32: string | number }> = [
      { input: '80', uint32: 80, int32: 80, float32: 80 },
      { input: '+80', uint32: "invalid character '+' looking for beginning of value", int32: "invalid character '+' looking for beginning of value", float32: "invalid character '+' looking for beginning of value" },
      { input: '080', uint32: "invalid character '8' after top-level value", int32: "invalid character '8' after top-level value", float32: "invalid character '8' after top-level value" },
      { input: '-', uint32: "invalid character ' ' in numeric literal", int32: "invalid character ' ' in numeric literal", float32: "invalid character ' ' in numeric literal" },
      { input: '1.', uint32: "invalid character ' ' after decimal point in numeric literal", int32: "invalid character ' ' after decimal point in numeric literal", float32: "invalid character ' ' after decimal point in numeric literal" },
      { input: '1ex', uint32: "invalid character 'x' in exponent of numeric literal", int32: "invalid character 'x' in exponent of numeric literal", float32: "invalid character 'x' in exponent of numeric literal" },
      { input: 'tru', uint32: "invalid character ' ' in literal true (expecting 'e')", int32: "invalid character ' ' in literal true (expecting 'e')", float32: "invalid character ' ' in literal true (expecting 'e')" },
      { input: 'null', uint32: 0, int32: 0, float32: 0 },
      { input: '[]', uint32: 'json: cannot unmarshal array into Go value of type uint32', int32: 'json: cannot unmarshal array into Go value of type int32', float32: 'json: cannot unmarshal array into Go value of type float32' },
      { input: '1e3', uint32: 'json: cannot unmarshal number 1e3 into Go value of type uint32', int32: 'json: cannot unmarshal number 1e3 into Go value of type int32', float32: 1000 },
      { input: '-1', uint32: 'json: cannot unmarshal number -1 into Go value of type uint32', int32: -1, float32: -1 },
      { input: '2147483648', uint32: 2147483648, int32: 'json: cannot unmarshal number 2147483648 into Go value of type int32', float32: 2147483648 },
      { input: '1e39', uint32: 'json: cannot unmarshal number 1e39 into Go value of type uint32', int32: 'json: cannot unmarshal number 1e39 into Go value of type int32', float32: 'json: cannot unmarshal number 1e39 into Go value of type float32' },
    ];
    const run = (s: string, t: 'uint32' | 'int32' | 'float32'): string | number => {
      try {
        return goJSONNumber(s, t);
      } catch (e) {
        return (e as Error).message;
      }
    };
    for (const r of rows) {
      assert.equal(run(r.input, 'uint32'), r.uint32, `${r.input} as uint32`);
      assert.equal(run(r.input, 'int32'), r.int32, `${r.input} as int32`);
      assert.equal(run(r.input, 'float32'), r.float32, `${r.input} as float32`);
    }
  });

  it('floating-point fields take jsonpb\'s "NaN" and "Infinity"', () => {
    assert.ok(Number.isNaN(goNumber('NaN', 'float64')));
    assert.equal(goNumber('-Infinity', 'float64'), -Infinity);
    assert.throws(() => goNumber('NaN', 'uint32'), /invalid character 'N'/);
    assert.equal(goNumber(undefined, 'uint32'), undefined);
  });
});
