// The service registry: Kubernetes Services + EndpointSlices (v1 and v1beta1) + Pods + Nodes, and
// ServiceEntry/WorkloadEntry, to mesh services and endpoints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../src/kube/store.js';
import { buildRegistry, portProtocol, registryKey, type RegistryInput } from '../../src/xds/registry.js';

const empty: RegistryInput = { services: [], endpointSlices: [], pods: [], nodes: [], serviceEntries: [], workloadEntries: [], domainSuffix: 'cluster.local' };
const k = (o: object): KubeObject => o as KubeObject;

describe('port protocol', () => {
  it('follows appProtocol first, then the name prefix up to the first dash', () => {
    assert.equal(portProtocol('http-web', 'TCP', undefined), 'HTTP');
    assert.equal(portProtocol('grpc-web', 'TCP', undefined), 'GRPC');
    assert.equal(portProtocol('web', 'TCP', 'http2'), 'HTTP2');
    assert.equal(portProtocol('tcp', 'TCP', 'kubernetes.io/h2c'), 'HTTP2');
    assert.equal(portProtocol('web', 'TCP', undefined), 'UNSUPPORTED');
    assert.equal(portProtocol('http', 'UDP', undefined), 'UDP');
    assert.equal(portProtocol('HTTPS', 'TCP', undefined), 'HTTPS');
  });
});

describe('Kubernetes services', () => {
  const svc = k({ kind: 'Service', metadata: { name: 'echo', namespace: 'ns1', annotations: { 'networking.istio.io/exportTo': '.,ns2' } }, spec: { clusterIP: '10.0.0.1', selector: { app: 'echo' }, ports: [{ name: 'grpc', port: 7070, targetPort: 'grpc-port' }, { name: 'http', port: 80, targetPort: 8080 }] } });
  const pod = k({ kind: 'Pod', metadata: { name: 'echo-1', namespace: 'ns1', labels: { app: 'echo', version: 'v1' }, annotations: { 'sidecar.istio.io/status': '{}' } }, spec: { serviceAccountName: 'echo-sa', nodeName: 'n1' } });
  const node = k({ kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/region': 'r1', 'topology.kubernetes.io/zone': 'z1' } } });

  it('maps a Service to its FQDN, VIP, ports and exportTo', () => {
    const r = buildRegistry({ ...empty, services: [svc] });
    const s = r.services[0]!;
    assert.equal(s.hostname, 'echo.ns1.svc.cluster.local');
    assert.deepEqual(s.addresses, ['10.0.0.1']);
    assert.deepEqual(s.ports, [{ name: 'grpc', port: 7070, protocol: 'GRPC', targetPort: undefined }, { name: 'http', port: 80, protocol: 'HTTP', targetPort: 8080 }]);
    assert.deepEqual(s.exportTo, ['.', 'ns2']);
  });

  it('reads v1 EndpointSlices with the pod labels, service account, node locality and sidecar TLS mode', () => {
    const slice = k({
      kind: 'EndpointSlice', metadata: { name: 'echo-abc', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'echo' } },
      ports: [{ name: 'grpc', port: 9090 }, { name: 'http', port: 8080 }],
      endpoints: [
        { addresses: ['10.1.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'echo-1', namespace: 'ns1' } },
        { addresses: ['10.1.0.2'], conditions: { ready: false } },
        { addresses: ['10.1.0.3'], conditions: { ready: false, serving: true, terminating: true } },
      ],
    });
    const r = buildRegistry({ ...empty, services: [svc], endpointSlices: [slice], pods: [pod], nodes: [node] });
    const eps = r.endpoints.get(registryKey('echo.ns1.svc.cluster.local', 'ns1'))!;
    const grpc = eps.filter((e) => e.servicePort === 7070);
    assert.deepEqual(grpc.map((e) => [e.address, e.port, e.health]), [['10.1.0.1', 9090, 'HEALTHY'], ['10.1.0.3', 9090, 'DRAINING']]);
    assert.deepEqual(grpc[0]!.labels, { app: 'echo', version: 'v1' });
    assert.equal(grpc[0]!.serviceAccount, 'echo-sa');
    assert.deepEqual(grpc[0]!.locality, { region: 'r1', zone: 'z1', subzone: '' });
    assert.equal(grpc[0]!.tlsMode, 'istio');
    assert.equal(grpc[1]!.tlsMode, 'disabled');
    assert.equal(eps.filter((e) => e.servicePort === 80).length, 2);
  });

  it('reads the zone of a v1beta1 slice from its topology', () => {
    const slice = k({ kind: 'EndpointSlice', metadata: { name: 'x', namespace: 'ns1', labels: { 'kubernetes.io/service-name': 'echo' } }, ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.1.0.5'], topology: { 'topology.kubernetes.io/zone': 'z9' } }] });
    const eps = buildRegistry({ ...empty, services: [svc], endpointSlices: [slice] }).endpoints.get(registryKey('echo.ns1.svc.cluster.local', 'ns1'))!;
    assert.equal(eps[0]!.locality.zone, 'z9');
    assert.equal(eps[0]!.health, 'HEALTHY', 'no conditions means ready');
  });

  it('lets a Service select WorkloadEntries in its namespace', () => {
    const we = k({ kind: 'WorkloadEntry', metadata: { name: 'vm', namespace: 'ns1' }, spec: { address: '192.168.0.9', labels: { app: 'echo' }, ports: { http: 18080 }, serviceAccount: 'vm-sa', locality: 'r/z/s' } });
    const elsewhere = k({ kind: 'WorkloadEntry', metadata: { name: 'vm', namespace: 'ns2' }, spec: { address: '192.168.0.10', labels: { app: 'echo' } } });
    const eps = buildRegistry({ ...empty, services: [svc], workloadEntries: [we, elsewhere] }).endpoints.get(registryKey('echo.ns1.svc.cluster.local', 'ns1'))!;
    assert.deepEqual(eps.map((e) => [e.address, e.servicePort, e.port]), [['192.168.0.9', 7070, 7070], ['192.168.0.9', 80, 18080]]);
    assert.deepEqual(eps[0]!.locality, { region: 'r', zone: 'z', subzone: 's' });
  });
});

describe('ServiceEntry', () => {
  it('makes one service per host with inline endpoints, selected WorkloadEntries and Pods', () => {
    const se = k({
      kind: 'ServiceEntry', metadata: { name: 'ext', namespace: 'ns1' },
      spec: { hosts: ['a.example.com', 'b.example.com'], addresses: ['240.0.0.1'], ports: [{ number: 443, name: 'tls', protocol: 'TLS' }], location: 'MESH_INTERNAL', resolution: 'STATIC', endpoints: [{ address: '1.2.3.4', ports: { tls: 8443 } }] },
    });
    const r = buildRegistry({ ...empty, serviceEntries: [se] });
    assert.deepEqual(r.services.map((s) => [s.hostname, s.resolution, s.external]), [['a.example.com', 'STATIC', false], ['b.example.com', 'STATIC', false]]);
    assert.deepEqual(r.endpoints.get(registryKey('a.example.com', 'ns1'))!.map((e) => [e.address, e.port]), [['1.2.3.4', 8443]]);

    const selecting = k({ kind: 'ServiceEntry', metadata: { name: 'sel', namespace: 'ns1' }, spec: { hosts: ['sel.internal'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', workloadSelector: { labels: { app: 'vm' } } } });
    const we = k({ kind: 'WorkloadEntry', metadata: { name: 'vm1', namespace: 'ns1' }, spec: { address: '10.9.0.1', labels: { app: 'vm' } } });
    const pod = k({ kind: 'Pod', metadata: { name: 'p', namespace: 'ns1', labels: { app: 'vm' } }, spec: {}, status: { podIP: '10.9.0.2' } });
    const r2 = buildRegistry({ ...empty, serviceEntries: [selecting], workloadEntries: [we], pods: [pod] });
    assert.deepEqual(r2.endpoints.get(registryKey('sel.internal', 'ns1'))!.map((e) => e.address), ['10.9.0.1', '10.9.0.2']);
  });

  it('resolves a DNS entry without endpoints to the host itself; NONE is passthrough', () => {
    const dns = k({ kind: 'ServiceEntry', metadata: { name: 'dns', namespace: 'ns1' }, spec: { hosts: ['api.example.com'], ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }], resolution: 'DNS' } });
    const none = k({ kind: 'ServiceEntry', metadata: { name: 'none', namespace: 'ns1' }, spec: { hosts: ['*.wild.com'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }] } });
    const r = buildRegistry({ ...empty, serviceEntries: [dns, none] });
    assert.deepEqual(r.endpoints.get(registryKey('api.example.com', 'ns1'))!.map((e) => [e.address, e.port]), [['api.example.com', 443]]);
    assert.equal(r.services[1]!.resolution, 'PASSTHROUGH');
    assert.equal(r.services[1]!.external, true);
  });
});
