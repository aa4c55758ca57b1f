// Load a caller can put on meshd's xDS server without credentials: clients that subscribe and never read
// (they must not hold the push slots, must not make meshd queue without bound, and are closed after the
// send timeout), requests naming more resources than a stream may watch, and made-up names, addresses and
// labels (the generator caches keep no misses and stay bounded).
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { defaultMeshConfig } from '../../../src/config/mesh.js';
import { ObjectStore, type KubeObject } from '../../../src/kube/store.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { ResourceGenerator } from '../../../src/xds/generator.js';
import { SERVER_LISTENER_PREFIX } from '../../../src/xds/gen/grpc.js';
import { parseProxy } from '../../../src/xds/proxy.js';
import type { ProxyInfo } from '../../../src/types.js';
import { messageType, TYPE } from '../../../src/xds/protos.js';
import { buildPushContext } from '../../../src/xds/updates.js';
import { AdsClient, names, node, type AdsStream, type SotwResponse } from '../../helpers/ads-client.js';
import type { DiscoveryRequest } from '../../../src/xds/ads.js';
import { service, workloadObjects } from '../../helpers/mesh-objects.js';
import { waitFor } from '../../helpers/meshd-process.js';
import { startTestXds, type TestXds } from '../../helpers/xds-server.js';

const NS = 'load';
const SERVICES = 50;
const sidecar = (ip: string, pod: string): object => node(`sidecar~${ip}~${pod}.${NS}~${NS}.svc.cluster.local`);
const grpcNode = (ip: string, pod: string): object => node(`sidecar~${ip}~${pod}.${NS}~${NS}.svc.cluster.local`, { GENERATOR: 'grpc' });

/** SERVICES services with one endpoint each, and a DestinationRule whose connect timeout changes with `round`. */
function mesh(round: number): object[] {
  const out: object[] = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push(service(`svc-${i}`, NS, 8080, { app: `svc-${i}` }), ...workloadObjects(`svc-${i}`, NS, { name: `svc-${i}-0`, labels: { app: `svc-${i}` }, port: 8080, address: `10.1.0.${i + 1}` }));
  }
  out.push({ apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'svc-0', namespace: NS }, spec: { host: 'svc-0', trafficPolicy: { connectionPool: { tcp: { connectTimeout: `${round + 1}s` } } } } });
  return out;
}

const made = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, i) => `outbound|8080||${prefix}-${i}.${NS}.svc.cluster.local`);

const counter = async (x: TestXds, name: string): Promise<number> =>
  ((await x.metrics.registry.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);

/**
 * Raw HTTP/2 ADS streams that send requests and never read: unlike a paused grpc-js call, which still takes a
 * few messages now and then, these leave the responses to HTTP/2 flow control at once.
 */
class StuckStreams {
  private readonly sessions: http2.ClientHttp2Session[] = [];
  readonly streams: http2.ClientHttp2Stream[] = [];

  constructor(private readonly port: number, private readonly perSession = 20) {}

  open(first: DiscoveryRequest): http2.ClientHttp2Stream {
    if (this.streams.length % this.perSession === 0) {
      const session = http2.connect(`http://127.0.0.1:${this.port}`);
      session.on('error', () => undefined);
      this.sessions.push(session);
    }
    const stream = this.sessions.at(-1)!.request({ ':method': 'POST', ':path': ADS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => undefined);
    this.streams.push(stream);
    this.send(stream, first);
    return stream;
  }

  send(stream: http2.ClientHttp2Stream, req: DiscoveryRequest): void {
    const type = messageType('envoy.service.discovery.v3.DiscoveryRequest');
    const body = type.encode(type.fromObject(req)).finish();
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    stream.write(frame);
  }

  close(): void {
    for (const s of this.sessions) s.destroy();
  }
}

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

/** Reads responses until one carries `version`, ACKing each; false if none does within 5 s of the last. */
async function receive(s: AdsStream<DiscoveryRequest, SotwResponse>, version: string): Promise<boolean> {
  for (;;) {
    const r = await s.next(5_000);
    if (!r) return false;
    s.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce });
    if (r.version_info === version) return true;
  }
}

describe('xDS clients that do not read', { timeout: 60_000 }, () => {
  const STUCK = 200;
  const PUSHES = 50;
  const SEND_TIMEOUT_MS = 3_000;
  let xds: TestXds;
  let stuck: StuckStreams;
  let own: AdsClient;

  before(async () => {
    xds = await startTestXds(mesh(0), {}, { sendTimeoutMs: SEND_TIMEOUT_MS, highWaterBytes: 64 * 1024 });
    stuck = new StuckStreams(xds.server.plainPort!);
    own = new AdsClient(`127.0.0.1:${xds.server.plainPort}`);
  });
  after(async () => {
    stuck.close();
    own.close();
    await xds.close();
  });

  test('a healthy client gets every push while 200 clients do not read, and their streams close after the send timeout', async () => {
    for (let i = 0; i < STUCK; i++) stuck.open({ node: sidecar('10.9.0.1', `stuck-${i}`), type_url: TYPE.cluster });
    const healthy = own.sotw();
    healthy.send({ node: sidecar('10.9.1.1', 'healthy'), type_url: TYPE.cluster });
    assert.ok(await receive(healthy, xds.discovery.context!.version));
    await waitFor('every stream connected', () => (xds.discovery.connections.size === STUCK + 1 ? true : undefined));
    const started = Date.now();
    let received = 0;
    for (let round = 1; round <= PUSHES; round++) {
      xds.set(mesh(round));
      if (await receive(healthy, xds.discovery.context!.version)) received++;
      else break;
    }
    assert.equal(received, PUSHES, `the healthy client got ${received} of ${PUSHES} pushes`);
    // The stuck streams stopped taking responses during the pushes; each is closed once the timeout passes.
    await waitFor('the stuck streams closed', () => (xds.discovery.connections.size === 1 ? true : undefined), Date.now() - started + SEND_TIMEOUT_MS + 10_000,
      () => `${xds.discovery.connections.size} streams left`);
    assert.equal(await counter(xds, 'pilot_xds_write_timeout'), STUCK);
    // The healthy one was not closed and still gets pushes.
    xds.set(mesh(PUSHES + 1));
    assert.ok(await receive(healthy, xds.discovery.context!.version));
  });
});

describe('an xDS client that sends requests and never reads', { timeout: 60_000 }, () => {
  let xds: TestXds;
  let stuck: StuckStreams;
  before(async () => {
    xds = await startTestXds(mesh(0), {}, { sendTimeoutMs: 0, highWaterBytes: 64 * 1024 });
    stuck = new StuckStreams(xds.server.plainPort!);
  });
  after(async () => {
    stuck.close();
    await xds.close();
  });

  test('makes meshd stop reading its requests instead of queueing responses without bound', async () => {
    const REQUESTS = 300;
    const s = stuck.open({ node: sidecar('10.9.2.1', 'flood'), type_url: TYPE.cluster });
    // Each request without a nonce asks for the whole CDS (~40 KB) again.
    for (let i = 1; i < REQUESTS; i++) stuck.send(s, { type_url: TYPE.cluster });
    await waitFor('meshd to stop answering', async () => {
      const before = await counter(xds, 'pilot_xds_pushes');
      await new Promise((r) => setTimeout(r, 500));
      return (await counter(xds, 'pilot_xds_pushes')) === before ? true : undefined;
    });
    const answered = await counter(xds, 'pilot_xds_pushes');
    const conn = [...xds.discovery.connections.values()][0]!;
    assert.ok(answered < REQUESTS / 3, `meshd answered ${answered} of ${REQUESTS} requests its client does not read`);
    assert.ok(conn.queue.bytes < 256 * 1024, `${conn.queue.bytes} bytes queued for the stream`);
  });
});

describe('xDS requests naming too many resources', { timeout: 60_000 }, () => {
  let xds: TestXds;
  let client: AdsClient;
  before(async () => {
    xds = await startTestXds(mesh(0), {}, { maxNames: 100 });
    client = new AdsClient(`127.0.0.1:${xds.server.plainPort}`);
  });
  after(async () => {
    client.close();
    await xds.close();
  });

  const cluster = (i: number): string => `outbound|8080||svc-${i}.${NS}.svc.cluster.local`;

  test('are refused with RESOURCE_EXHAUSTED, and a request within the limit is answered', async () => {
    const ok = client.sotw();
    ok.send({ node: grpcNode('10.9.3.1', 'ok'), type_url: TYPE.endpoint, resource_names: [...made(99, 'nope'), cluster(1)] });
    assert.deepEqual(names(await ok.mustNext()), [cluster(1)]);
    const s = client.sotw();
    s.send({ node: grpcNode('10.9.3.2', 'many'), type_url: TYPE.route, resource_names: made(80_000, 'r') });
    const err = await s.failure();
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err!.details, /too many resource names: 80000 .*100/);
    ok.close();
  });

  test('are refused when a stream adds up more names over several requests and types', async () => {
    const s = client.delta();
    s.send({ node: grpcNode('10.9.3.3', 'delta'), type_url: TYPE.cluster, resource_names_subscribe: Array.from({ length: 40 }, (_, i) => cluster(i)) });
    await s.mustNext();
    s.send({ type_url: TYPE.endpoint, resource_names_subscribe: Array.from({ length: 40 }, (_, i) => cluster(i)) });
    await s.mustNext();
    s.send({ type_url: TYPE.cluster, resource_names_subscribe: made(30, 'more') });
    assert.equal((await s.failure())?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.ok(![...xds.discovery.connections.values()].some((c) => c.proxy.podName === 'delta'));
  });

  test('for types meshd does not serve keep no state', async () => {
    const s = client.sotw();
    s.send({ node: grpcNode('10.9.3.4', 'odd'), type_url: TYPE.cluster, resource_names: [cluster(2)] });
    await s.mustNext();
    for (let i = 0; i < 50; i++) s.send({ type_url: `type.googleapis.com/made.up.Type${i}`, resource_names: ['x'] });
    s.send({ type_url: TYPE.endpoint, resource_names: [cluster(2)] });
    await s.mustNext();
    const conn = [...xds.discovery.connections.values()].find((c) => c.proxy.podName === 'odd')!;
    assert.deepEqual([...conn.watches.keys()].sort(), [TYPE.cluster, TYPE.endpoint].sort());
    s.close();
  });
});

describe('xDS generator caches', { timeout: 60_000 }, () => {
  const store = new ObjectStore();
  store.replaceSource('test', mesh(0) as KubeObject[]);
  const ctx = buildPushContext(store, { domainSuffix: 'cluster.local', mesh: defaultMeshConfig }, createLogger('silent'));
  const proxy = (ip: string, grpcGen: boolean, labels: Record<string, string> = {}): ProxyInfo =>
    parseProxy(node(`sidecar~${ip}~p.${NS}~${NS}.svc.cluster.local`, { ...(grpcGen ? { GENERATOR: 'grpc' } : {}), LABELS: labels }) as Parameters<typeof parseProxy>[0]);

  test('keep no miss', () => {
    const g = new ResourceGenerator(ctx, () => undefined);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(g.generate(proxy(`10.8.0.${i}`, true, { n: String(i) }), TYPE.route, made(2_000, `r${i}`)), []);
      assert.deepEqual(g.generate(proxy(`10.8.1.${i}`, false, { n: String(i) }), TYPE.route, made(2_000, `e${i}`)), []);
      assert.deepEqual(g.generate(proxy(`10.8.2.${i}`, false), TYPE.endpoint, made(2_000, `c${i}`)), []);
    }
    assert.equal(g.cached, 0);
    assert.equal(g.encoded.size, 0);
  });

  test('share what does not depend on the caller, and stay within their size', () => {
    const g = new ResourceGenerator(ctx, () => undefined, undefined, 100);
    const real = Array.from({ length: SERVICES }, (_, i) => `outbound|8080||svc-${i}.${NS}.svc.cluster.local`);
    // Envoy endpoints depend on the namespace only: 200 sidecars at made-up addresses share them.
    for (let i = 0; i < 200; i++) assert.equal(g.generate(proxy(`10.7.${i >> 8}.${i & 255}`, false, { i: String(i) }), TYPE.endpoint, real).length, SERVICES);
    assert.equal(g.cached, SERVICES);
    // Server listeners exist for any address a caller names: the cache keeps the last 100.
    const p = proxy('10.6.0.1', true);
    for (let i = 0; i < 1_000; i++) assert.equal(g.generate(p, TYPE.listener, [`${SERVER_LISTENER_PREFIX}10.6.${i >> 8}.${i & 255}:8080`]).length, 1);
    assert.ok(g.cached <= 100, `${g.cached} entries cached`);
    assert.ok(g.encoded.size <= 100, `${g.encoded.size} resources encoded`);
    // Evicted resources come back when asked for again.
    assert.equal(g.generate(proxy('10.7.0.0', false, { i: '0' }), TYPE.endpoint, real).length, SERVICES);
  });
});
