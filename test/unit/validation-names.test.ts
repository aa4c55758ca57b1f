// Name, label and host rules against istiod's helpers (istio pkg/config/labels IsDNS1123Label and friends,
// pkg/config/validation/agent): Istio's DNS labels accept upper case, Kubernetes' do not. One row per rule,
// the mixed-case name istiod accepts and a name it still refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDNS1123Label, isWildcardDNS1123Label, validateExportTo, validateLabels } from '../../src/validation/core.js';
import { validateObject } from '../../src/validation/validate.js';

type Want = 'allowed' | RegExp;

interface Row {
  name: string;
  input: unknown;
  want: Want;
}

const object = (kind: string, spec: unknown, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.istio.io/v1',
  kind,
  metadata: { name: 'x', namespace: 'ns', ...metadata },
  spec,
});
const route = [{ destination: { host: 'reviews.ns.svc.cluster.local' } }];
const vs = (extra: Record<string, unknown>) => object('VirtualService', { hosts: ['reviews'], http: [{ route }], ...extra });
const vsMatch = (match: Record<string, unknown>) => vs({ http: [{ match: [match], route }] });
const gateway = (hosts: string[], metadata?: Record<string, unknown>) =>
  object('Gateway', { servers: [{ port: { number: 80, name: 'HTTP', protocol: 'HTTP' }, hosts }] }, metadata);
const sidecarEgress = (egress: Record<string, unknown>) => object('Sidecar', { egress: [egress] });
const sidecarIngress = (name: string) =>
  object('Sidecar', { ingress: [{ port: { number: 8080, name, protocol: 'HTTP' }, defaultEndpoint: '127.0.0.1:8080' }] });
const serviceEntry = (portName: string, endpointPort = portName) => object('ServiceEntry', {
  hosts: ['api.example.com'],
  ports: [{ number: 443, name: portName, protocol: 'TLS' }],
  resolution: 'STATIC',
  endpoints: [{ address: '10.0.0.1', ports: { [endpointPort]: 8443 } }],
});
const subsets = (name: string, labels: Record<string, string> = { version: 'v1' }) =>
  object('DestinationRule', { host: 'reviews', subsets: [{ name, labels }] });

const ROWS: Row[] = [
  { name: 'Gateway name: mixed case', input: gateway(['*'], { name: 'Public-GW' }), want: 'allowed' },
  { name: 'Gateway name: a dot', input: gateway(['*'], { name: 'public.gw' }), want: /invalid gateway name: "public.gw"/ },
  { name: 'Gateway host namespace: mixed case', input: gateway(['Team-A/*']), want: 'allowed' },
  { name: 'Gateway host namespace and name: mixed case', input: gateway(['Team-A/Bookinfo.Example.COM']), want: 'allowed' },
  { name: 'Gateway host namespace: underscore', input: gateway(['team_a/*']), want: /invalid namespace value "team_a" in gateway/ },
  { name: 'Gateway host: "*--" label', input: gateway(['*--a.example.com']), want: /label "\*--a" invalid/ },
  { name: 'Sidecar egress host namespace: mixed case', input: sidecarEgress({ hosts: ['Prod/*', '~Staging/*'] }), want: 'allowed' },
  { name: 'Sidecar egress host namespace: underscore', input: sidecarEgress({ hosts: ['prod_1/*'] }), want: /invalid namespace value "prod_1" in sidecar/ },
  { name: 'Sidecar egress port name: upper case', input: sidecarEgress({ port: { number: 80, name: 'HTTP', protocol: 'HTTP' }, hosts: ['*/*'] }), want: 'allowed' },
  { name: 'Sidecar egress port name: underscore', input: sidecarEgress({ port: { number: 80, name: 'http_1', protocol: 'HTTP' }, hosts: ['*/*'] }), want: /invalid port name: http_1/ },
  { name: 'Sidecar ingress port name: mixed case', input: sidecarIngress('HTTP-Web'), want: 'allowed' },
  { name: 'Sidecar ingress port name: space', input: sidecarIngress('http web'), want: /invalid port name: http web/ },
  { name: 'ServiceEntry port name: upper case', input: serviceEntry('HTTPS'), want: 'allowed' },
  { name: 'ServiceEntry port name: a dot', input: serviceEntry('https.1'), want: /invalid port name: https.1/ },
  { name: 'ServiceEntry port name: 64 characters', input: serviceEntry('P'.repeat(64)), want: /invalid port name: P{64}/ },
  { name: 'WorkloadEntry port name: upper case', input: object('WorkloadEntry', { address: '10.0.0.1', ports: { HTTP: 8080 } }), want: 'allowed' },
  { name: 'WorkloadEntry port name: trailing dash', input: object('WorkloadEntry', { address: '10.0.0.1', ports: { 'HTTP-': 8080 } }), want: /invalid port name: HTTP-/ },
  { name: 'DestinationRule subset name: upper case', input: subsets('V1'), want: 'allowed' },
  { name: 'DestinationRule subset name: underscore', input: subsets('v_1'), want: /subset name is invalid: v_1/ },
  { name: 'VirtualService destination subset: upper case', input: vs({ http: [{ route: [{ destination: { host: 'reviews', subset: 'V1' } }] }] }), want: 'allowed' },
  { name: 'VirtualService destination subset: a dot', input: vs({ http: [{ route: [{ destination: { host: 'reviews', subset: 'v.1' } }] }] }), want: /subset name is invalid: v.1/ },
  { name: 'VirtualService gateways: ns/Name', input: vs({ gateways: ['Istio-System/Public-GW', 'mesh'] }), want: 'allowed' },
  { name: 'VirtualService gateways: namespace with underscore', input: vs({ gateways: ['istio_system/gw'] }), want: /invalid value for namespace: "istio_system"/ },
  { name: 'VirtualService match gateways: ns/Name', input: vsMatch({ gateways: ['Prod/GW'] }), want: 'allowed' },
  { name: 'VirtualService sourceNamespace: mixed case', input: vsMatch({ sourceNamespace: 'Prod' }), want: 'allowed' },
  { name: 'VirtualService sourceNamespace: a dot', input: vsMatch({ sourceNamespace: 'prod.ns' }), want: /sourceNamespace match prod.ns is invalid/ },
  { name: 'exportTo namespace: mixed case', input: vs({ exportTo: ['Other-NS', '.'] }), want: 'allowed' },
  { name: 'exportTo namespace: a dot', input: vs({ exportTo: ['other.ns'] }), want: /only .,\*, or a valid DNS 1123 label is allowed as exportTo entry/ },
  { name: 'label key prefix: mixed case', input: subsets('v1', { 'Example.COM/app': 'v1' }), want: 'allowed' },
  { name: 'label value: longer than 63 (no limit in Istio)', input: subsets('v1', { version: 'v'.repeat(100) }), want: 'allowed' },
  { name: 'label key name: longer than 63', input: subsets('v1', { ['k'.repeat(64)]: 'v1' }), want: /invalid tag key: "k{64}" \(name is too long\)/ },
  { name: 'label key prefix: longer than 253', input: subsets('v1', { [`${'a.'.repeat(127)}a/k`]: 'v1' }), want: /\(DNS prefix is too long\)/ },
  { name: 'label value: a space', input: subsets('v1', { version: 'v 1' }), want: /invalid tag value: "v 1"/ },
  { name: 'VirtualService sourceLabels key: two slashes', input: vsMatch({ sourceLabels: { 'a/b/c': 'x' } }), want: /invalid tag key: "a\/b\/c"/ },
];

function verdict(input: unknown): string {
  const v = validateObject(input);
  return v.allowed ? 'allowed' : (v.message ?? '');
}

describe('name, label and host rules (istiod helpers)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const got = verdict(row.input);
      if (row.want === 'allowed') assert.equal(got, 'allowed');
      else {
        assert.notEqual(got, 'allowed', `allowed, expected ${row.want}`);
        assert.match(got, row.want);
      }
    });
  }

  it('labels.IsDNS1123Label and IsWildcardDNS1123Label', () => {
    const rows: Array<{ input: string; label: boolean; wildcard: boolean }> = [
      { input: 'HTTPS', label: true, wildcard: true },
      { input: 'a-B-9', label: true, wildcard: true },
      { input: 'x'.repeat(63), label: true, wildcard: true },
      { input: 'x'.repeat(64), label: false, wildcard: false },
      { input: '-a', label: false, wildcard: false },
      { input: 'a_b', label: false, wildcard: false },
      { input: '', label: false, wildcard: false },
      { input: '*', label: false, wildcard: true },
      { input: '*Foo', label: false, wildcard: true },
      { input: '*-foo', label: false, wildcard: true },
      { input: '*--foo', label: false, wildcard: false },
      { input: '*-', label: false, wildcard: false },
      { input: 'a*', label: false, wildcard: false },
    ];
    for (const r of rows) {
      assert.equal(isDNS1123Label(r.input), r.label, `IsDNS1123Label(${r.input})`);
      assert.equal(isWildcardDNS1123Label(r.input), r.wildcard, `IsWildcardDNS1123Label(${r.input})`);
    }
  });

  it('exportTo as istiod checks it', () => {
    const rows: Array<{ name: string; input: string[]; selector?: boolean; want: string | undefined }> = [
      { name: 'mixed case namespace', input: ['Other'], want: undefined },
      { name: 'repeated namespace', input: ['a', 'a'], want: 'duplicate entries in exportTo for entry a' },
      { name: '. twice', input: ['.', '.'], want: 'duplicate entries in exportTo: . and current namespace ns' },
      { name: 'invalid and public', input: ['*', 'a_b'], want: '2 errors occurred' },
      { name: 'selector, own namespace twice over', input: ['.', 'other'], selector: true, want: 'cannot have multiple entries in exportTo' },
      { name: 'selector, other namespace', input: ['other'], selector: true, want: 'cannot have exportTo beyond current namespace' },
    ];
    for (const r of rows) {
      const got = validateExportTo('ns', r.input, false, r.selector ?? false);
      if (r.want === undefined) assert.equal(got, undefined, r.name);
      else assert.ok(got?.includes(r.want), `${r.name}: ${got}`);
    }
  });

  it('a Sidecar host error is reported twice, as istiod appends it twice', () => {
    const v = validateObject(sidecarEgress({ hosts: ['prod/a_b.example.com'] }));
    assert.equal(v.allowed, false);
    assert.equal(v.message!.split('domain name "a_b.example.com" invalid').length - 1, 2, v.message);
  });

  it('labels in messages are Go-quoted', () => {
    assert.equal(validateLabels({ 'a"b': 'x' }), 'invalid tag key: "a\\"b"');
  });
});
