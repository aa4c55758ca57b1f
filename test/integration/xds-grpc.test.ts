// The xDS server against the real proxyless client: @grpc/grpc-js-xds channels resolve `xds:///` targets
// through `meshd serve --local-dir`, fed from Istio YAML, and call real gRPC backends on 127.0.0.1.
// Every change is a file rewrite that meshd picks up, debounces and pushes; the client is never restarted.
import '../helpers/xds-rbac-env.js';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import { bootstrap, call, EchoClient, spread, startBackend, xdsClient, type Backend, type Echo } from '../helpers/echo.js';
import { createCA } from '../../src/ca/self-signed.js';
import { signWorkloadCsr } from '../../src/ca/workload.js';
import { makeCsr } from '../helpers/csr.js';
import { service, toYaml, workloadObjects } from '../helpers/mesh-objects.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { AdsClient, decoded, node } from '../helpers/ads-client.js';
import { freePort } from '../helpers/servers.js';
import { TYPE } from '../../src/xds/protos.js';
import { scratchDir } from '../helpers/scratch.js';

xds.register();

const NODE = 'sidecar~127.0.0.1~client-0.default~default.svc.cluster.local';
const TARGET = 'echo.default.svc.cluster.local:7070';
let m: MeshdProcess;
let dir: string;
let v1: Backend;
let v2: Backend;
let v3: Backend;
let client: Echo;

const subsets = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'echo', namespace: 'default' },
  spec: { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] },
};

function virtualService(http: object[]): object {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'echo', namespace: 'default' }, spec: { hosts: ['echo'], http } };
}

const route = (subset: string, weight?: number): object => ({ destination: { host: 'echo', subset }, ...(weight === undefined ? {} : { weight }) });

/** Rewrites the routing file (VirtualService and DestinationRule) that meshd watches. */
function setRouting(...objects: object[]): void {
  writeFileSync(join(dir, 'routing.yaml'), toYaml(objects));
}

function setWorkloads(backends: Array<{ name: string; version: string; port: number }>): void {
  const objects = [service('echo', 'default', 7070, { app: 'echo' })];
  for (const b of backends) objects.push(...workloadObjects('echo', 'default', { name: b.name, labels: { app: 'echo', version: b.version }, port: b.port }));
  writeFileSync(join(dir, 'workloads.yaml'), toYaml(objects));
}

async function syncz(): Promise<Array<Record<string, any>>> {
  return (await (await fetch(`http://127.0.0.1:${m.monitoringPort}/debug/syncz`)).json()) as Array<Record<string, any>>;
}

/** Applies a routing change and waits until the client has ACKed a new route config. */
async function applyRouting(...objects: object[]): Promise<void> {
  const before = (await syncz()).find((c) => c.proxy === NODE)?.route_acked;
  setRouting(...objects);
  await waitFor('the new route config ACKed', async () => (await syncz()).find((c) => c.proxy === NODE && c.route_acked && c.route_acked !== before && c.route_acked === c.route_sent), 20_000, () => m.logs().slice(-3000));
}

/** Polls calls until `pred` holds on a batch (config reaches the client asynchronously). */
async function until(what: string, pred: (counts: Record<string, number>) => boolean, headers: Record<string, string> = {}, n = 20): Promise<Record<string, number>> {
  let last: Record<string, number> = {};
  return waitFor(what, async () => {
    last = await spread(client, n, headers);
    return pred(last) ? last : undefined;
  }, 20_000, () => `last batch: ${JSON.stringify(last)}\n${m.logs().slice(-3000)}`);
}

before(async () => {
  [v1, v2, v3] = await Promise.all([startBackend('v1'), startBackend('v2'), startBackend('v3')]);
  dir = scratchDir('meshd-xds-');
  setWorkloads([{ name: 'echo-v1', version: 'v1', port: v1.port }, { name: 'echo-v2', version: 'v2', port: v2.port }]);
  setRouting(subsets);
  m = await startMeshd(['--local-dir', dir]);
  client = xdsClient(TARGET, m.xdsPort, NODE);
});

after(async () => {
  client?.close();
  await m?.close();
  for (const b of [v1, v2, v3]) b?.server.forceShutdown();
});

describe('proxyless gRPC through meshd xDS', () => {
  it('resolves xds:/// through LDS, RDS, CDS and EDS, each ACKed', async () => {
    const r = await call(client);
    assert.ok(r.version === 'v1' || r.version === 'v2', JSON.stringify(r));
    const row = await waitFor('all four types ACKed', async () => (await syncz()).find((c) => c.proxy === NODE && c.endpoint_acked && c.cluster_acked && c.route_acked && c.listener_acked));
    assert.equal(row.proxyless, true);
    assert.equal(row.errors, undefined);
    assert.equal(row.listener_acked, row.listener_sent);
    const dump = (await (await fetch(`http://127.0.0.1:${m.monitoringPort}/debug/config_dump?proxyID=client-0.default`)).json()) as { configs: Array<Record<string, any>> };
    const listeners = dump.configs.find((c) => c['@type'].endsWith('ListenersConfigDump'))!.dynamic_listeners;
    assert.deepEqual(listeners.map((l: { name: string }) => l.name), [TARGET]);
    const routes = dump.configs.find((c) => c['@type'].endsWith('RoutesConfigDump'))!.dynamic_route_configs;
    assert.deepEqual(routes.map((r: { name: string }) => r.name), ['outbound|7070||echo.default.svc.cluster.local']);
  });

  it('splits 90/10 by VirtualService weights within 3 points over 2,000 calls', async () => {
    await applyRouting(subsets, virtualService([{ route: [route('v1', 90), route('v2', 10)] }]));
    // The client swaps its config selector just after the ACK; round robin over both endpoints gives exactly
    // half to v2, so a batch far from half shows the split is in force (30+ of 100 at 10 % is ~1e-8).
    await until('the split in force', (c) => (c.v2 ?? 0) < 30, {}, 100);
    const counts = await spread(client, 2000);
    const share = (counts.v2 ?? 0) / 2000;
    assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), 2000, JSON.stringify(counts));
    assert.ok(Math.abs(share - 0.1) <= 0.03, `v2 share ${share} (${JSON.stringify(counts)})`);
  });

  it('routes a header match to subset v2 and the rest to subset v1 (DestinationRule subsets by label)', async () => {
    setRouting(subsets, virtualService([{ match: [{ headers: { 'x-version': { exact: 'v2' } } }], route: [route('v2')] }, { route: [route('v1')] }]));
    await until('header route in force', (c) => c.v2 === 20, { 'x-version': 'v2' });
    assert.deepEqual(await spread(client, 100, { 'x-version': 'v2' }), { v2: 100 });
    assert.deepEqual(await spread(client, 100), { v1: 100 });
    assert.deepEqual(await spread(client, 50, { 'x-version': 'v1' }), { v1: 50 });
  });

  it('moves traffic on a live VirtualService change without restarting the client', async () => {
    setRouting(subsets, virtualService([{ route: [route('v2')] }]));
    await until('all traffic on v2', (c) => c.v2 === 20);
    setRouting(subsets, virtualService([{ route: [route('v1')] }]));
    await until('all traffic back on v1', (c) => c.v1 === 20);
  });

  it('aborts with the configured gRPC status', async () => {
    await applyRouting(subsets, virtualService([{ route: [route('v2')] }]));
    // The fault arrives together with a new destination: grpc-js-xds 1.14.1 compares a new route config
    // with its cached one only over the cached object's keys, so a fault added to an otherwise unchanged
    // route (an empty typed_per_filter_config map before) is taken for no change.
    setRouting(subsets, virtualService([{ fault: { abort: { grpcStatus: 'PERMISSION_DENIED', percentage: { value: 100 } } }, route: [route('v1')] }]));
    const counts = await until('abort in force', (c) => c['error:7'] === 20);
    assert.deepEqual(counts, { 'error:7': 20 });
    const r = await call(client);
    assert.equal(r.code, grpc.status.PERMISSION_DENIED);
  });

  it('delays by the configured fixed delay, and a route timeout cuts a longer delay', async () => {
    setRouting(subsets, virtualService([{ fault: { delay: { fixedDelay: '300ms', percentage: { value: 100 } } }, route: [route('v1')] }]));
    await waitFor('delay in force', async () => ((await call(client)).ms >= 300 ? true : undefined), 20_000);
    const r = await call(client);
    assert.equal(r.version, 'v1');
    assert.ok(r.ms >= 300, `${r.ms} ms`);
    setRouting(subsets, virtualService([{ timeout: '100ms', fault: { delay: { fixedDelay: '300ms', percentage: { value: 100 } } }, route: [route('v1')] }]));
    const timedOut = await waitFor('timeout in force', async () => {
      const x = await call(client);
      return x.code === grpc.status.DEADLINE_EXCEEDED ? x : undefined;
    }, 20_000);
    assert.ok(timedOut.ms < 300, `${timedOut.ms} ms`);
  });

  it('converges on an endpoint change', async () => {
    setRouting(subsets, virtualService([{ route: [route('v1')] }]));
    await until('v1 route', (c) => c.v1 === 20);
    // The v1 subset's workload moves to another backend (a new pod with the same labels).
    setWorkloads([{ name: 'echo-v1b', version: 'v1', port: v3.port }, { name: 'echo-v2', version: 'v2', port: v2.port }]);
    await until('calls reach the new endpoint', (c) => c.v3 === 20);
    setWorkloads([{ name: 'echo-v1', version: 'v1', port: v1.port }, { name: 'echo-v2', version: 'v2', port: v2.port }]);
    await until('calls back on the old endpoint', (c) => c.v1 === 20);
  });

  it('records a NACK for a resource the client rejects, and the client keeps the last good config', async () => {
    setRouting(subsets, virtualService([{ route: [route('v2')] }]));
    await until('v2 route', (c) => c.v2 === 20);
    const before = (await syncz()).find((c) => c.proxy === NODE)!;
    // Like istiod, an abort without a percentage is sent without one; gRPC rejects such a route.
    setRouting(subsets, virtualService([{ fault: { abort: { grpcStatus: 'UNAVAILABLE' } }, route: [route('v1')] }]));
    const nacked = await waitFor('the RDS NACK', async () => (await syncz()).find((c) => c.proxy === NODE && c.errors?.route));
    assert.match(nacked.errors.route, /^14 /);
    assert.notEqual(nacked.route_sent, nacked.route_acked, 'the rejected nonce is not ACKed');
    assert.equal(nacked.route_acked, before.route_acked, 'the last ACK stays the last good response');
    assert.deepEqual(await spread(client, 50), { v2: 50 }, 'still routing on the last good config');
    setRouting(subsets, virtualService([{ route: [route('v1')] }]));
    await until('the next valid config applied', (c) => c.v1 === 20);
    const healed = await waitFor('the next config ACKed', async () => (await syncz()).find((c) => c.proxy === NODE && !c.errors && c.route_acked === c.route_sent));
    assert.equal(healed.errors, undefined);
  });

  it('exports istiod’s xDS metrics: connected proxies, pushes by type, rejects and convergence time', async () => {
    const text = await (await fetch(`http://127.0.0.1:${m.monitoringPort}/metrics`)).text();
    const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
    assert.ok(value(/^pilot_xds (\d+)/m) >= 1, 'pilot_xds');
    for (const type of ['lds', 'rds', 'cds', 'eds']) assert.ok(value(new RegExp(`^pilot_xds_pushes\\{type="${type}"\\} (\\d+)`, 'm')) >= 1, `pilot_xds_pushes ${type}`);
    assert.ok(value(/^pilot_total_xds_rejects\{type="rds"\} (\d+)/m) >= 1, 'the NACK above is counted');
    assert.ok(value(/^pilot_proxy_convergence_time_count (\d+)/m) >= 1, 'convergence observed');
  });

  it('gives an XdsServer its inbound listener, so it starts serving', async () => {
    const port = await freePort();
    const server = new xds.XdsServer({ 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap(m.xdsPort, 'sidecar~127.0.0.1~server-0.default~default.svc.cluster.local')) } as never);
    try {
      const backend = await startBackend('xds-server', port, server as unknown as grpc.Server);
      assert.equal(backend.port, port);
      const direct = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Echo;
      const r = await call(direct);
      direct.close();
      assert.equal(r.version, 'xds-server');
      const row = await waitFor('the inbound listener ACKed', async () => (await syncz()).find((c) => c.proxy.startsWith('sidecar~127.0.0.1~server-0') && c.listener_acked));
      assert.equal(row.errors, undefined);
    } finally {
      server.forceShutdown();
    }
  });

  it('makes an XdsServer require mesh certificates under a STRICT PeerAuthentication, which an ISTIO_MUTUAL client presents', async () => {
    // Workload certificates as istio-agent writes them for gRPC, from a test mesh CA.
    const root = await createCA('test mesh root');
    const certDir = (sa: string): string => {
      const d = scratchDir(`meshd-certs-${sa}-`);
      const id = `spiffe://cluster.local/ns/default/sa/${sa}`;
      const { csrPem, keyPem } = makeCsr([id]);
      writeFileSync(join(d, 'cert-chain.pem'), signWorkloadCsr({ signer: root, chainPem: root.certPem, rootsPem: root.certPem }, csrPem, [id], 3600).chain[0]!);
      writeFileSync(join(d, 'key.pem'), keyPem);
      writeFileSync(join(d, 'root-cert.pem'), root.certPem);
      return d;
    };
    const port = await freePort();
    const labels = { app: 'secure', version: 'v1' };
    writeFileSync(join(dir, 'secure.yaml'), toYaml([
      service('secure', 'default', 7071, { app: 'secure' }),
      ...workloadObjects('secure', 'default', { name: 'secure-server', labels, port }),
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'secure', namespace: 'default' }, spec: { host: 'secure', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } } },
      { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'secure', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'secure' } }, mtls: { mode: 'STRICT' } } },
    ]));
    const serverNode = 'sidecar~127.0.0.1~secure-server.default~default.svc.cluster.local';
    // The listener must be the mTLS one before the server starts, or it would first serve plain text.
    const probe = new AdsClient(`127.0.0.1:${m.xdsPort}`);
    const ps = probe.sotw();
    const listenerName = `xds.istio.io/grpc/lds/inbound/127.0.0.1:${port}`;
    ps.send({ node: node('sidecar~127.0.0.1~probe.default~default.svc.cluster.local', { GENERATOR: 'grpc', LABELS: labels }), type_url: TYPE.listener, resource_names: [listenerName] });
    await waitFor('the STRICT listener', async () => {
      const r = await ps.next(500);
      if (r) ps.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: [listenerName] });
      return r && decoded(r)[0]?.filter_chains[0].name === 'inbound-mtls' ? true : undefined;
    });
    ps.close();
    probe.close();

    const server = new xds.XdsServer({ 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap(m.xdsPort, serverNode, { labels, certDir: certDir('secure-server') })) } as never);
    const secureClient = xdsClient('secure.default.svc.cluster.local:7071', m.xdsPort, 'sidecar~127.0.0.1~client-1.default~default.svc.cluster.local', { certDir: certDir('client-1') });
    try {
      await startBackend('secure', port, server as unknown as grpc.Server, new xds.XdsServerCredentials(grpc.ServerCredentials.createInsecure()));
      const ok = await waitFor('an mTLS call through xDS', async () => {
        const r = await call(secureClient);
        return r.version ? r : undefined;
      });
      assert.equal(ok.version, 'secure');
      const plain = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Echo;
      const refused = await call(plain, {}, 2_000);
      plain.close();
      assert.equal(refused.version, undefined, 'a plain-text client is refused');
      assert.equal(refused.code, grpc.status.UNAVAILABLE);
    } finally {
      secureClient.close();
      server.forceShutdown();
    }
  });

  it('enforces AuthorizationPolicies on an XdsServer: DENY rules first, then ALLOW rules, changed live', async () => {
    const port = await freePort();
    const labels = { app: 'guarded' };
    const policies = (allowPaths: string[]): object[] => [
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-flagged', namespace: 'default' }, spec: { selector: { matchLabels: labels }, action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-deny]', values: ['yes'] }] }] } },
      { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'allow-paths', namespace: 'default' }, spec: { selector: { matchLabels: labels }, action: 'ALLOW', rules: [{ to: [{ operation: { paths: allowPaths } }] }] } },
    ];
    writeFileSync(join(dir, 'guarded.yaml'), toYaml(policies(['/meshd.test.Echo/*'])));
    const server = new xds.XdsServer({ 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap(m.xdsPort, 'sidecar~127.0.0.1~guarded-0.default~default.svc.cluster.local', { labels })) } as never);
    const direct = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Echo;
    try {
      await startBackend('guarded', port, server as unknown as grpc.Server);
      const denied = await waitFor('the DENY rule in force', async () => {
        const r = await call(direct, { 'x-deny': 'yes' });
        return r.code === grpc.status.PERMISSION_DENIED ? r : undefined;
      });
      assert.equal(denied.details, 'Unauthorized RPC rejected');
      const allowed = await call(direct);
      assert.equal(allowed.version, 'guarded', `allowed by path: ${JSON.stringify(allowed)}`);
      const notFlagged = await call(direct, { 'x-deny': 'no' });
      assert.equal(notFlagged.version, 'guarded', JSON.stringify(notFlagged));
      writeFileSync(join(dir, 'guarded.yaml'), toYaml(policies(['/other.Service/*'])));
      await waitFor('the ALLOW rule no longer matching', async () => ((await call(direct)).code === grpc.status.PERMISSION_DENIED ? true : undefined));
    } finally {
      direct.close();
      server.forceShutdown();
    }
  });
});
