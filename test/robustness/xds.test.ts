// Bad input on meshd's gRPC ports (ADS on 15010/15012, the CA on 15012) against a running `meshd serve`:
// undecodable messages, oversized messages, a bad node, unknown types, a burst of streams. Each gets a
// gRPC status (never a hang), and the process keeps serving well-formed clients.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { TYPE } from '../../src/xds/protos.js';
import { AdsClient, names, node } from '../helpers/ads-client.js';
import { caClient } from '../helpers/ca-client.js';
import { startMeshd, type MeshdProcess } from '../helpers/meshd-process.js';
import { service, toYaml, workloadObjects } from '../helpers/mesh-objects.js';
import { scratchDir } from '../helpers/scratch.js';

let meshd: MeshdProcess;
const GRPC_NODE = 'sidecar~10.0.0.8~grpc.default~default.svc.cluster.local';
const CLUSTER = 'outbound|7070||echo.default.svc.cluster.local';

before(async () => {
  const dir = scratchDir('meshd-xds-abuse-');
  writeFileSync(join(dir, 'mesh.yaml'), toYaml([service('echo', 'default', 7070, { app: 'echo' }), ...workloadObjects('echo', 'default', { name: 'echo-0', labels: { app: 'echo' }, port: 7070, address: '10.1.0.1' })]));
  meshd = await startMeshd(['--local-dir', dir]);
});
after(async () => meshd?.close());

/** A well-formed client still gets its cluster. */
async function stillServing(): Promise<void> {
  const c = new AdsClient(`127.0.0.1:${meshd.xdsPort}`);
  const s = c.sotw();
  s.send({ node: node(GRPC_NODE, { GENERATOR: 'grpc' }), type_url: TYPE.cluster, resource_names: [CLUSTER] });
  assert.deepEqual(names(await s.mustNext(5_000)), [CLUSTER]);
  s.close();
  c.close();
}

/** The ADS method with a pass-through codec, so a test can send any bytes. */
function rawStream(port: number): grpc.ClientDuplexStream<Buffer, Buffer> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const id = (b: Buffer): Buffer => b;
  return client.makeBidiStreamRequest('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', id, id);
}

const failure = (call: grpc.ClientDuplexStream<Buffer, Buffer>): Promise<grpc.ServiceError> =>
  new Promise((resolve) => {
    call.on('data', () => undefined);
    call.on('error', resolve);
  });

describe('gRPC abuse', () => {
  it('answers undecodable bytes with a status and keeps serving', async () => {
    for (const bytes of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from('not protobuf at all'), Buffer.alloc(64, 0x0a)]) {
      const call = rawStream(meshd.xdsPort);
      const done = failure(call);
      call.write(bytes);
      const err = await done;
      assert.ok([grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT].includes(err.code), `${err.code} ${err.details}`);
    }
    await stillServing();
  });

  it('refuses a message over the 4 MiB limit', async () => {
    const c = new AdsClient(`127.0.0.1:${meshd.xdsPort}`);
    const s = c.sotw();
    s.send({ node: node(GRPC_NODE, { GENERATOR: 'grpc' }), type_url: TYPE.cluster, resource_names: Array.from({ length: 100_000 }, (_, i) => `outbound|7070||padding-${i}.default.svc.cluster.local`) });
    const err = await s.failure();
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    c.close();
    await stillServing();
  });

  it('ignores unknown types and names that match nothing, without answering or failing', async () => {
    const c = new AdsClient(`127.0.0.1:${meshd.xdsPort}`);
    const s = c.sotw();
    s.send({ node: node(GRPC_NODE, { GENERATOR: 'grpc' }), type_url: 'type.googleapis.com/no.such.Type', resource_names: ['x'] });
    s.send({ type_url: TYPE.route, resource_names: ['outbound|1|nope|nowhere', '', '|||', 'outbound|99999999999||x'] });
    s.send({ type_url: TYPE.endpoint, resource_names: ['\u0000', 'outbound|-1||x'] });
    assert.equal(await s.next(500), undefined);
    assert.equal(s.error, undefined);
    s.send({ type_url: TYPE.cluster, resource_names: [CLUSTER] });
    assert.deepEqual(names(await s.mustNext()), [CLUSTER]);
    s.close();
    c.close();
  });

  it('serves 500 concurrent streams', async () => {
    const clients = Array.from({ length: 10 }, () => new AdsClient(`127.0.0.1:${meshd.xdsPort}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
    const streams = Array.from({ length: 500 }, (_, i) => {
      const s = clients[i % clients.length]!.sotw();
      s.send({ node: node(`sidecar~10.2.${i >> 8}.${i & 255}~c${i}.default~default.svc.cluster.local`, { GENERATOR: 'grpc' }), type_url: TYPE.cluster, resource_names: [CLUSTER] });
      return s;
    });
    const answers = await Promise.all(streams.map((s) => s.mustNext(20_000)));
    assert.ok(answers.every((r) => names(r)[0] === CLUSTER));
    for (const s of streams) s.close();
    for (const c of clients) c.close();
    await stillServing();
  });

  it('answers the CA with statuses for an oversized CSR and garbage, and keeps serving', async () => {
    const ca = caClient(meshd.xdsTlsPort, readFileSync(meshd.caFile, 'utf8'));
    try {
      assert.equal((await ca.create('x'.repeat(5 * 1024 * 1024), 3600, 'a.b.c')).code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal((await ca.create('\u0000garbage', -5, 'a.b.c')).code, grpc.status.UNAUTHENTICATED);
    } finally {
      ca.close();
    }
    await stillServing();
  });
});
