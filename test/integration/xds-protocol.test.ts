// The ADS protocol rules, checked on the wire with a protocol-level client (test/helpers/ads-client):
// istiod's ShouldRespond for State of the World (ACK, NACK, stale nonce, unsubscribe, warming, reconnect)
// and its Delta rules (wildcard, per-resource versions, removals, forced EDS after CDS), plus TLS on 15012.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createCA, issueServingCertificate } from '../../src/ca/self-signed.js';
import { clientCertAuthenticator } from '../../src/security/authenticate.js';
import { TYPE } from '../../src/xds/protos.js';
import { streamAuth } from '../../src/xds/server.js';
import { AdsClient, decoded, names, node } from '../helpers/ads-client.js';
import { ISTIOD_NAME, meshCredentials, workloadCert } from '../helpers/mesh-certs.js';
import { service, workloadObjects } from '../helpers/mesh-objects.js';
import { startTestXds, type TestXds } from '../helpers/xds-server.js';

const ENVOY = 'sidecar~10.0.0.9~client.default~default.svc.cluster.local';
const GRPC = 'sidecar~10.0.0.8~grpc.default~default.svc.cluster.local';
const ECHO = 'outbound|7070||echo.default.svc.cluster.local';

function mesh(extra: object[] = []): object[] {
  return [
    service('echo', 'default', 7070, { app: 'echo' }),
    ...workloadObjects('echo', 'default', { name: 'echo-v1', labels: { app: 'echo', version: 'v1' }, port: 7070, address: '10.1.0.1' }),
    ...extra,
  ];
}
const other = (name: string): object[] => [service(name, 'default', 8080, { app: name }, 'http'), ...workloadObjects(name, 'default', { name: `${name}-0`, labels: { app: name }, port: 8080, address: '10.1.0.2' }, 'http')];

let xds: TestXds;
let client: AdsClient;

before(async () => {
  xds = await startTestXds(mesh());
  client = new AdsClient(`127.0.0.1:${xds.server.plainPort}`);
});
after(async () => {
  client.close();
  await xds.close();
});

describe('State of the World', () => {
  it('refuses a stream whose first request has no valid node id', async () => {
    for (const bad of [undefined, node(''), node('not-a-node-id'), node('proxy~1.2.3.4~a.b~c')]) {
      const s = client.sotw();
      s.send({ node: bad, type_url: TYPE.cluster });
      const err = await s.failure();
      assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, JSON.stringify(bad));
    }
  });

  it('answers the first request, ignores an ACK and a stale nonce, and records a NACK without resending', async () => {
    const s = client.sotw();
    s.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.cluster });
    const r = await s.mustNext();
    assert.equal(r.type_url, TYPE.cluster);
    assert.ok(r.nonce && r.version_info);
    assert.ok(names(r).includes(ECHO), names(r).join(','));
    assert.ok(names(r).includes('BlackHoleCluster'));
    s.send({ type_url: TYPE.cluster, version_info: r.version_info, response_nonce: r.nonce });
    assert.equal(await s.next(300), undefined, 'an ACK gets no response');
    s.send({ type_url: TYPE.cluster, version_info: r.version_info, response_nonce: 'stale' });
    assert.equal(await s.next(300), undefined, 'a stale nonce gets no response');
    s.send({ type_url: TYPE.cluster, version_info: r.version_info, response_nonce: r.nonce, error_detail: { code: 3, message: 'bad cluster' } });
    assert.equal(await s.next(300), undefined, 'a NACK gets no response');
    const conn = [...xds.discovery.connections.values()].find((c) => c.proxy.id === ENVOY)!;
    assert.equal(conn.watches.get(TYPE.cluster)!.lastError, '3 bad cluster');
    assert.equal(conn.watches.get(TYPE.cluster)!.nonceAcked, r.nonce);
    s.close();
  });

  it('pushes a change in push order with a new version and unique nonces, and skips types that did not change', async () => {
    const s = client.sotw();
    s.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.route, resource_names: ['8080'] });
    s.send({ type_url: TYPE.listener });
    s.send({ type_url: TYPE.cluster });
    s.send({ type_url: TYPE.endpoint, resource_names: [ECHO] });
    const first = [await s.mustNext(), await s.mustNext(), await s.mustNext(), await s.mustNext()];
    // RDS "8080" exists even with no service on 8080 yet: it holds the allow_any catch-all.
    assert.deepEqual(first.map((r) => r.type_url).sort(), [TYPE.listener, TYPE.cluster, TYPE.endpoint, TYPE.route].sort());
    assert.deepEqual(decoded(first.find((r) => r.type_url === TYPE.route)!)[0]!.virtual_hosts.map((v: { name: string }) => v.name), ['allow_any']);
    for (const r of first) s.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: r.type_url === TYPE.route ? ['8080'] : r.type_url === TYPE.endpoint ? [ECHO] : [] });
    xds.set(mesh(other('web')));
    const pushed = [];
    for (let r = await s.next(1000); r; r = await s.next(300)) pushed.push(r);
    const order = pushed.map((r) => r.type_url);
    assert.deepEqual(order, [TYPE.cluster, TYPE.listener, TYPE.route], 'CDS, then LDS, then RDS; EDS for echo is unchanged');
    const version = pushed[0]!.version_info;
    assert.ok(pushed.every((r) => r.version_info === version), 'one version per push');
    assert.notEqual(version, first[0]!.version_info);
    const nonces = new Set([...first, ...pushed].map((r) => r.nonce));
    assert.equal(nonces.size, first.length + pushed.length, 'nonces are unique');
    assert.deepEqual(names(pushed[2]!), ['8080']);
    s.close();
  });

  it('answers only added RDS names for Envoy (A, then B, then A and B) and nothing on unsubscribe', async () => {
    xds.set(mesh([...other('web'), ...other('api')]));
    const s = client.sotw();
    s.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.route, resource_names: ['8080'] });
    const a = await s.mustNext();
    assert.deepEqual(names(a), ['8080']);
    const vhosts = decoded(a)[0]!.virtual_hosts.map((v: { name: string }) => v.name);
    assert.deepEqual(vhosts.slice(0, -1).sort(), ['api.default.svc.cluster.local:8080', 'web.default.svc.cluster.local:8080']);
    assert.equal(vhosts.at(-1), 'allow_any', 'the catch-all comes last');
    s.send({ type_url: TYPE.route, version_info: a.version_info, response_nonce: a.nonce, resource_names: ['7070'] });
    const b = await s.mustNext();
    assert.deepEqual(names(b), ['7070']);
    s.send({ type_url: TYPE.route, version_info: b.version_info, response_nonce: b.nonce, resource_names: ['7070', '8080'] });
    const ab = await s.mustNext();
    assert.deepEqual(names(ab), ['8080'], 'only the added name');
    s.send({ type_url: TYPE.route, version_info: ab.version_info, response_nonce: ab.nonce, resource_names: [] });
    assert.equal(await s.next(300), undefined, 'unsubscribe gets no response');
    s.close();
  });

  it('answers an EDS request that looks like an ACK after clusters were re-requested (warming)', async () => {
    const s = client.sotw();
    s.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.cluster });
    const cds = await s.mustNext();
    s.send({ type_url: TYPE.endpoint, resource_names: [ECHO] });
    const eds = await s.mustNext();
    assert.deepEqual(names(eds), [ECHO]);
    s.send({ type_url: TYPE.endpoint, version_info: eds.version_info, response_nonce: eds.nonce, resource_names: [ECHO] });
    assert.equal(await s.next(300), undefined);
    s.send({ type_url: TYPE.cluster, version_info: cds.version_info, response_nonce: '' });
    const cds2 = await s.mustNext();
    assert.equal(cds2.type_url, TYPE.cluster);
    s.send({ type_url: TYPE.endpoint, version_info: eds.version_info, response_nonce: eds.nonce, resource_names: [ECHO] });
    const eds2 = await s.mustNext();
    assert.equal(eds2.type_url, TYPE.endpoint);
    s.close();
  });

  it('answers a reconnecting client that presents the old version and nonce', async () => {
    const s1 = client.sotw();
    s1.send({ node: node(GRPC, { GENERATOR: 'grpc' }), type_url: TYPE.listener, resource_names: ['echo.default.svc.cluster.local:7070'] });
    const r1 = await s1.mustNext();
    s1.close();
    const s2 = client.sotw();
    s2.send({ node: node(GRPC, { GENERATOR: 'grpc' }), type_url: TYPE.listener, resource_names: ['echo.default.svc.cluster.local:7070'], version_info: r1.version_info, response_nonce: r1.nonce });
    const r2 = await s2.mustNext();
    assert.deepEqual(names(r2), ['echo.default.svc.cluster.local:7070']);
    const l = decoded(r2)[0]!;
    assert.equal(l.api_listener.api_listener.type_url.split('.').pop(), 'HttpConnectionManager');
    s2.close();
  });

  it('sends full state for proxyless LDS: an unknown name is left out, a known one kept', async () => {
    const s = client.sotw();
    s.send({ node: node(GRPC, { GENERATOR: 'grpc' }), type_url: TYPE.listener, resource_names: ['echo:7070', 'missing.default.svc.cluster.local:1'] });
    const r = await s.mustNext();
    assert.deepEqual(names(r), ['echo:7070'], 'the short name resolves in the client namespace and keeps its name');
    s.close();
  });
});

describe('Delta', () => {
  it('answers a wildcard CDS subscription, ignores the ACK, then sends only changes and removals', async () => {
    xds.set(mesh());
    const s = client.delta();
    s.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.cluster });
    const r = await s.mustNext();
    const got = new Map((r.resources ?? []).map((x) => [x.name, x.version]));
    assert.ok(got.has(ECHO) && got.has('PassthroughCluster'), [...got.keys()].join(','));
    assert.ok(r.nonce && r.system_version_info);
    s.send({ type_url: TYPE.cluster, response_nonce: r.nonce });
    assert.equal(await s.next(300), undefined, 'an ACK gets no response');

    xds.set(mesh(other('web')));
    const added = await s.mustNext();
    assert.deepEqual((added.resources ?? []).map((x) => x.name), ['outbound|8080||web.default.svc.cluster.local'], 'only the new cluster');
    assert.deepEqual(added.removed_resources ?? [], []);
    s.send({ type_url: TYPE.cluster, response_nonce: added.nonce });

    xds.set(mesh());
    const removed = await s.mustNext();
    assert.deepEqual(removed.resources ?? [], []);
    assert.deepEqual(removed.removed_resources, ['outbound|8080||web.default.svc.cluster.local']);
    s.send({ type_url: TYPE.cluster, response_nonce: removed.nonce, error_detail: { code: 13, message: 'rejected' } });
    assert.equal(await s.next(300), undefined, 'a NACK gets no response');
    const conn = [...xds.discovery.connections.values()].find((c) => c.proxy.id === ENVOY && c.delta)!;
    assert.equal(conn.watches.get(TYPE.cluster)!.lastError, '13 rejected');
    s.close();
  });

  it('subscribes EDS by name and force-pushes it after a CDS request', async () => {
    const s = client.delta();
    s.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.endpoint, resource_names_subscribe: [ECHO] });
    const eds = await s.mustNext();
    assert.deepEqual((eds.resources ?? []).map((x) => x.name), [ECHO]);
    s.send({ type_url: TYPE.endpoint, response_nonce: eds.nonce });
    s.send({ type_url: TYPE.cluster });
    const cds = await s.mustNext();
    assert.equal(cds.type_url, TYPE.cluster);
    const forced = await s.mustNext();
    assert.equal(forced.type_url, TYPE.endpoint);
    assert.deepEqual((forced.resources ?? []).map((x) => x.name), [ECHO]);
    s.close();
  });

  it('does not resend what a reconnecting client already holds (initial_resource_versions)', async () => {
    const s1 = client.delta();
    s1.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.cluster });
    const r1 = await s1.mustNext();
    s1.close();
    const held = Object.fromEntries((r1.resources ?? []).map((x) => [x.name, x.version]));
    const s2 = client.delta();
    s2.send({ node: node(ENVOY, { NAMESPACE: 'default' }), type_url: TYPE.cluster, initial_resource_versions: { ...held, 'outbound|1|gone|gone.default.svc.cluster.local': 'x' } });
    const r2 = await s2.mustNext();
    assert.deepEqual(r2.resources ?? [], [], 'nothing changed');
    assert.deepEqual(r2.removed_resources, ['outbound|1|gone|gone.default.svc.cluster.local']);
    s2.close();
  });
});

describe('TLS on the secure port', () => {
  it('serves ADS over TLS with a certificate for istiod.<ns>.svc, and a re-issued one without a restart', async () => {
    const ca = await createCA('test CA');
    const serving = await issueServingCertificate(ca, ca.certPem, ca.certPem, 'istio-system', 'default');
    let trusted = ca.certPem;
    const secureAuth = streamAuth([clientCertAuthenticator(() => trusted)], { xdsAuth: true, identityCheck: true });
    const secure = await startTestXds(mesh(), { plainPort: undefined, tlsPort: 0, tls: serving, secureAuth });
    const address = `127.0.0.1:${secure.server.tlsPort}`;
    const id = 'spiffe://cluster.local/ns/default/sa/default';
    const c = new AdsClient(address, meshCredentials(serving.roots, workloadCert(ca, id)), ISTIOD_NAME);
    try {
      const s = c.sotw();
      s.send({ node: node(GRPC, { GENERATOR: 'grpc' }), type_url: TYPE.cluster, resource_names: [ECHO] });
      assert.deepEqual(names(await s.mustNext()), [ECHO]);
      s.close();
      const anonymous = new AdsClient(address, meshCredentials(serving.roots), ISTIOD_NAME);
      const a = anonymous.sotw();
      a.send({ node: node(GRPC, { GENERATOR: 'grpc' }), type_url: TYPE.cluster, resource_names: [ECHO] });
      assert.equal((await a.failure())?.code, grpc.status.UNAUTHENTICATED, 'no client certificate and no token');
      anonymous.close();
      const untrusted = new AdsClient(address, grpc.credentials.createSsl(Buffer.from((await createCA('other')).certPem)), ISTIOD_NAME);
      const u = untrusted.sotw();
      u.send({ node: node(GRPC), type_url: TYPE.cluster, resource_names: [ECHO] });
      assert.equal((await u.failure())?.code, grpc.status.UNAVAILABLE);
      untrusted.close();

      // A re-issued certificate (say, after a root rotation) is served to new connections without a restart.
      const ca2 = await createCA('rotated CA');
      trusted = ca2.certPem;
      secure.server.setTls(await issueServingCertificate(ca2, ca2.certPem, ca2.certPem, 'istio-system', 'default'));
      const rotated = new AdsClient(address, meshCredentials(ca2.certPem, workloadCert(ca2, id)), ISTIOD_NAME);
      const r = rotated.sotw();
      r.send({ node: node(GRPC, { GENERATOR: 'grpc' }), type_url: TYPE.cluster, resource_names: [ECHO] });
      assert.deepEqual(names(await r.mustNext()), [ECHO]);
      r.close();
      rotated.close();
    } finally {
      c.close();
      await secure.close();
    }
  });
});
