// istio.io/debug/syncz on the ADS stream, as istioctl proxy-status --xds-address asks it (istiod's
// StatusGen): each proxy's watched types with their sync state, refused on the plain-text port while
// ENABLE_DEBUG_ENDPOINT_AUTH is on, narrowed to the caller's namespace outside the system namespace.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { createCA, issueServingCertificate, type KeyPairPem, type ServingCertificate } from '../../src/ca/self-signed.js';
import { clientCertAuthenticator } from '../../src/security/authenticate.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { installDebugTypes, SYNCZ_TYPE } from '../../src/xds/debug-types.js';
import { decodeMessage, TYPE } from '../../src/xds/protos.js';
import { streamAuth } from '../../src/xds/server.js';
import { AdsClient, node, type SotwResponse } from '../helpers/ads-client.js';
import { ISTIOD_NAME, meshCredentials, workloadCert } from '../helpers/mesh-certs.js';
import { service, workloadObjects } from '../helpers/mesh-objects.js';
import { startTestXds, type TestXds } from '../helpers/xds-server.js';

const proxyId = (pod: string, ns: string): string => `sidecar~10.0.0.9~${pod}.${ns}~${ns}.svc.cluster.local`;
// What syncz reports: istiod's proxy ID, `<pod>.<namespace>`.
const listed = (pod: string, ns: string): string => `${pod}.${ns}`;
const spiffe = (ns: string, sa = 'default'): string => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
// istioctl's own node: no PROXY_CONFIG (pkg/adsc with the "event" generator).
const ISTIOCTL = { GENERATOR: 'event', NAMESPACE: 'istio-system', SERVICE_ACCOUNT: 'default' };
const proxyMeta = (ns: string): Record<string, unknown> => ({ NAMESPACE: ns, CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: '1.31.0', PROXY_CONFIG: {} });

interface ClientConfig {
  node: { id: string; metadata?: { fields?: Record<string, { stringValue?: string }> } };
  generic_xds_configs?: Array<{ type_url: string; config_status: string; last_updated?: unknown; error_state?: { details: string } }>;
}
const configs = (r: SotwResponse): ClientConfig[] => r.resources.map((x) => decodeMessage<ClientConfig>(x.type_url, x.value));
const statuses = (c: ClientConfig | undefined): Record<string, string> => Object.fromEntries((c?.generic_xds_configs ?? []).map((g) => [g.type_url, g.config_status]));

describe('istio.io/debug/syncz on the ADS stream', () => {
  let ca: KeyPairPem;
  let serving: ServingCertificate;
  let xds: TestXds;
  let open: TestXds;
  const clients: AdsClient[] = [];
  const rules = { systemNamespace: () => 'istio-system', allowedNamespaces: new Set<string>(), controlPlane: { id: 'meshd-0', version: '0.1.0' } };

  before(async () => {
    ca = await createCA('debug CA');
    serving = await issueServingCertificate(ca, ca.certPem, ca.certPem, 'istio-system', 'default');
    const secureAuth = streamAuth([clientCertAuthenticator(() => ca.certPem)], { xdsAuth: true, identityCheck: true });
    const objects = [service('echo', 'shop', 7070, { app: 'echo' }), ...workloadObjects('echo', 'shop', { name: 'echo-v1', labels: { app: 'echo' }, port: 7070, address: '10.1.0.1' })];
    xds = await startTestXds(objects, { tlsPort: 0, tls: serving, secureAuth });
    installDebugTypes(xds.discovery, { ...rules, namespaceRules: true }, createLogger('silent'));
    open = await startTestXds(objects);
    installDebugTypes(open.discovery, { ...rules, namespaceRules: false }, createLogger('silent'));
  });
  after(async () => {
    for (const c of clients) c.close();
    await xds?.close();
    await open?.close();
  });

  const plain = (x: TestXds): AdsClient => {
    const c = new AdsClient(`127.0.0.1:${x.server.plainPort}`);
    clients.push(c);
    return c;
  };
  const secure = (identity: string): AdsClient => {
    const c = new AdsClient(`127.0.0.1:${xds.server.tlsPort}`, meshCredentials(serving.roots, workloadCert(ca, identity)), ISTIOD_NAME);
    clients.push(c);
    return c;
  };
  /** A proxy watching CDS (ACKed) and LDS (not ACKed), as an Envoy mid-update. */
  async function connectProxy(client: AdsClient, pod: string, ns: string): Promise<void> {
    const s = client.sotw();
    s.send({ node: node(proxyId(pod, ns), proxyMeta(ns)), type_url: TYPE.cluster });
    const cds = await s.mustNext();
    s.send({ type_url: TYPE.cluster, response_nonce: cds.nonce, version_info: cds.version_info });
    s.send({ type_url: TYPE.listener });
    await s.mustNext();
  }
  async function syncz(client: AdsClient, meta: Record<string, unknown> = ISTIOCTL, pod = 'test-1'): Promise<{ r?: SotwResponse; code?: number; details?: string }> {
    const s = client.sotw();
    s.send({ node: node(proxyId(pod, String(meta.NAMESPACE)), meta), type_url: SYNCZ_TYPE });
    const r = await Promise.race([s.next(1_500), s.failure().then(() => undefined)]);
    s.close();
    return { r, code: s.error?.code, details: s.error?.details };
  }

  it('lists each proxy with its watched types SYNCED or STALE, and not the caller itself', async () => {
    await connectProxy(plain(xds), 'echo-v1', 'shop');
    await connectProxy(plain(xds), 'web-0', 'front');
    const { r } = await syncz(secure(spiffe('istio-system')));
    assert.ok(r, 'a response');
    assert.equal(r.type_url, SYNCZ_TYPE);
    const byId = new Map(configs(r).map((c) => [c.node.id, c]));
    assert.deepEqual([...byId.keys()].sort(), [listed('echo-v1', 'shop'), listed('web-0', 'front')]);
    const echo = byId.get(listed('echo-v1', 'shop'));
    assert.deepEqual(statuses(echo), { [TYPE.cluster]: 'SYNCED', [TYPE.listener]: 'STALE' });
    assert.deepEqual(echo?.generic_xds_configs?.map((g) => g.type_url), [TYPE.cluster, TYPE.listener], 'sorted by type');
    assert.ok(echo?.generic_xds_configs?.every((g) => g.last_updated), 'each sent type has its send time');
    const md = Object.fromEntries(Object.entries(echo?.node.metadata?.fields ?? {}).map(([k, v]) => [k, v.stringValue]));
    assert.deepEqual(md, { CLUSTER_ID: 'Kubernetes', NAMESPACE: 'shop', ISTIO_VERSION: '1.31.0' });
  });

  it('names the control plane in the response (istioctl prints its ID)', async () => {
    const s = secure(spiffe('istio-system')).sotw();
    s.send({ node: node(proxyId('test-1', 'istio-system'), ISTIOCTL), type_url: SYNCZ_TYPE });
    const raw = (await s.mustNext()) as SotwResponse & { control_plane?: { identifier: string } };
    s.close();
    assert.deepEqual(JSON.parse(raw.control_plane?.identifier ?? '{}'), { Component: 'meshd', ID: 'meshd-0', Info: { version: '0.1.0' } });
  });

  it('reports a NACKed type as ERROR with its details', async () => {
    const s = plain(xds).sotw();
    s.send({ node: node(proxyId('bad-0', 'shop'), proxyMeta('shop')), type_url: TYPE.cluster });
    const cds = await s.mustNext();
    s.send({ type_url: TYPE.cluster, response_nonce: cds.nonce, error_detail: { code: 3, message: 'bad cluster' } });
    await new Promise((r) => setTimeout(r, 200));
    const { r } = await syncz(secure(spiffe('istio-system')));
    const bad = configs(r!).find((c) => c.node.id === listed('bad-0', 'shop'));
    assert.equal(bad?.generic_xds_configs?.[0]?.config_status, 'ERROR');
    assert.match(bad?.generic_xds_configs?.[0]?.error_state?.details ?? '', /bad cluster/);
    s.close();
  });

  it('refuses the plain-text port (no verified identity): UNAUTHENTICATED, as istiod', async () => {
    const { r, code, details } = await syncz(plain(xds));
    assert.equal(r, undefined);
    assert.equal(code, grpc.status.UNAUTHENTICATED);
    assert.equal(details, 'authentication required');
  });

  it('shows a caller outside the system namespace only its own namespace', async () => {
    const { r } = await syncz(secure(spiffe('shop')), { ...ISTIOCTL, NAMESPACE: 'shop' });
    assert.ok(r);
    assert.ok(configs(r).length > 0);
    assert.ok(configs(r).every((c) => c.node.id.endsWith('.shop')), 'only shop proxies');
  });

  it('answers everyone, plain text included, with ENABLE_DEBUG_ENDPOINT_AUTH=false', async () => {
    await connectProxy(plain(open), 'echo-v1', 'shop');
    const { r } = await syncz(plain(open));
    assert.deepEqual(configs(r!).map((c) => c.node.id), [listed('echo-v1', 'shop')]);
  });

  it('answers other debug types with no resources and starts no watch', async () => {
    const s = secure(spiffe('istio-system')).sotw();
    s.send({ node: node(proxyId('test-1', 'istio-system'), ISTIOCTL), type_url: 'istio.io/debug/config_dump', resource_names: ['nope.shop'] });
    const r = await s.mustNext();
    s.close();
    assert.deepEqual(r.resources ?? [], []);
    const conns = [...xds.discovery.connections.values()].filter((c) => c.proxy.podName === 'test-1');
    assert.ok(conns.every((c) => c.watches.size === 0), 'debug requests are not watches');
  });
});
