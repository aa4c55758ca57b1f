// xDS fan-out: `meshd serve --local-dir` with 1,000 services (each with two endpoints, a
// DestinationRule with two subsets and a 90/10 VirtualService) and 2,000 connected proxyless clients in
// this one process. The clients are protocol-level (test/helpers/ads-client) and behave like
// grpc-js-xds: LDS by target, then the RDS, CDS and EDS names each response names, ACKing everything;
// hundreds of real grpc-js-xds channels in one process would measure the client, not meshd.
//
// Reports the initial sync, then (1) one VirtualService changed and (2) all 1,000 changed in one write:
// time from the file write until every affected client has ACKed the new routes, meshd's CPU time over
// that window and its peak RSS; each against the targets (2 s, 1.5 GB) as a ratio.
//
// With --changes N it then applies N more single-VirtualService changes and reports meshd's RSS drift.
//
// With --peer istiod (run through bench/peer.sh) it instead compares meshd in cluster mode with real
// istiod on one API server holding the same mesh (bench/xds-peer.ts).
//
// Usage: npm run bench:xds [-- --services 1000 --clients 2000 --changes 0]
//        bash bench/peer.sh xds [--services 1000 --clients 2000 --rounds 3]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TYPE } from '../src/xds/protos.js';
import { toYaml } from '../test/helpers/mesh-objects.js';
import { startMeshd, waitFor } from '../test/helpers/meshd-process.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { peerFlag } from './planes.js';
import { procStats } from './proc-stats.js';
import { connectClients, type Client } from './xds-client.js';
import { meshObjects, routing as routingOf } from './xds-mesh.js';
import { versusIstiod } from './xds-peer.js';

const { values } = parseArgs({ options: { services: { type: 'string' }, clients: { type: 'string' }, changes: { type: 'string' }, peer: { type: 'string' }, rounds: { type: 'string' } } });
const CHANGES = Number(values.changes ?? 0);
const SERVICES = Number(values.services ?? 1000);
const CLIENTS = Number(values.clients ?? 2000);
const TARGET_MS = 2000;
const TARGET_RSS_MB = 1536;

if (peerFlag(values.peer)) {
  await versusIstiod({ services: SERVICES, clients: CLIENTS, rounds: Number(values.rounds ?? 3) });
  process.exit(0);
}

const routing = (weightV1: (i: number) => number): object[] => routingOf(SERVICES, weightV1);

const dir = scratchDir('meshd-bench-xds-');
writeFileSync(join(dir, 'services.yaml'), toYaml(meshObjects(SERVICES)));
writeFileSync(join(dir, 'routing.yaml'), toYaml(routing(() => 90)));
const meshd = await startMeshd(['--local-dir', dir]);
const pid = meshd.child.pid!;
console.log(`meshd up with ${SERVICES} services; connecting ${CLIENTS} proxyless clients`);
let t0 = performance.now();
const connected = connectClients(`127.0.0.1:${meshd.xdsPort}`, CLIENTS, SERVICES);
const { clients } = connected;
await waitFor('every client synced', () => (clients.every((c) => c.synced()) ? true : undefined), 300_000, () => `${clients.filter((c) => c.synced()).length} synced\n${meshd.logs().slice(-2000)}`);
const initial = performance.now() - t0;
console.log(`initial sync of ${CLIENTS} clients (4 types each): ${(initial / 1000).toFixed(2)} s; meshd RSS ${procStats(pid).rssMb.toFixed(0)} MB`);

async function change(label: string, weights: (i: number) => number, affected: Client[]): Promise<number> {
  const before = procStats(pid);
  const versions = new Map(affected.map((c) => [c, c.acked.get(TYPE.route)]));
  t0 = performance.now();
  writeFileSync(join(dir, 'routing.yaml'), toYaml(routing(weights)));
  await waitFor(`${label}: every affected client ACKed`, () => (affected.every((c) => c.acked.get(TYPE.route) !== versions.get(c)) ? true : undefined), 120_000, () => meshd.logs().slice(-2000));
  const ms = Math.max(...affected.map((c) => c.routeAckedAt)) - t0;
  const after = procStats(pid);
  console.log(`${label}: ${affected.length} clients ACKed in ${(ms / 1000).toFixed(2)} s (ratio to the ${TARGET_MS / 1000} s target ${(ms / TARGET_MS).toFixed(2)}); meshd CPU ${((after.cpuMs - before.cpuMs) / 1000).toFixed(2)} s`);
  return ms;
}

// The file write includes meshd's directory watch (200 ms) and the 100 ms debounce.
await change('one VirtualService changed', (i) => (i === 0 ? 50 : 90), clients.filter((c) => c.target.startsWith('svc-0.')));
await change(`all ${SERVICES} VirtualServices changed`, () => 80, clients);
/** V8 heap in use, from meshd's own metrics (RSS alone cannot tell garbage not yet collected from a leak). */
async function heapMb(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${meshd.monitoringPort}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
}

if (CHANGES > 0) {
  const rssBefore = procStats(pid).rssMb;
  const heapBefore = await heapMb();
  let worst = 0;
  for (let n = 0; n < CHANGES; n++) {
    const i = n % SERVICES;
    const affected = clients.filter((c) => c.target.startsWith(`svc-${i}.`));
    const versions = new Map(affected.map((c) => [c, c.acked.get(TYPE.route)]));
    t0 = performance.now();
    writeFileSync(join(dir, 'routing.yaml'), toYaml(routing((j) => (j === i ? 10 + (n % 60) : 80))));
    await waitFor(`change ${n}`, () => (affected.every((c) => c.acked.get(TYPE.route) !== versions.get(c)) ? true : undefined), 120_000);
    worst = Math.max(worst, performance.now() - t0);
    if ((n + 1) % 50 === 0) console.log(`  after ${n + 1} changes: RSS ${procStats(pid).rssMb.toFixed(0)} MB, heap used ${(await heapMb()).toFixed(0)} MB`);
  }
  const rssAfter = procStats(pid).rssMb;
  const heapAfter = await heapMb();
  console.log(`${CHANGES} more changes: slowest ${(worst / 1000).toFixed(2)} s; meshd RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MB (ratio ${(rssAfter / rssBefore).toFixed(2)}), heap used ${heapBefore.toFixed(0)} -> ${heapAfter.toFixed(0)} MB (ratio ${(heapAfter / heapBefore).toFixed(2)})`);
}
const stats = procStats(pid);
console.log(`meshd peak RSS ${stats.peakMb.toFixed(0)} MB (ratio to the 1.5 GB target ${(stats.peakMb / TARGET_RSS_MB).toFixed(2)}), total CPU ${(stats.cpuMs / 1000).toFixed(1)} s`);
connected.close();
await meshd.close();
process.exit(0);
