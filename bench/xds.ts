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
// Usage: npm run bench:xds [-- --services 1000 --clients 2000 --changes 0]
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, TYPE } from '../src/xds/protos.js';
import { AdsClient, node, type AdsStream, type SotwResponse } from '../test/helpers/ads-client.js';
import type { DiscoveryRequest } from '../src/xds/ads.js';
import { toYaml } from '../test/helpers/mesh-objects.js';
import { startMeshd, waitFor } from '../test/helpers/meshd-process.js';
import { scratchDir } from '../test/helpers/scratch.js';

const { values } = parseArgs({ options: { services: { type: 'string' }, clients: { type: 'string' }, changes: { type: 'string' } } });
const CHANGES = Number(values.changes ?? 0);
const SERVICES = Number(values.services ?? 1000);
const CLIENTS = Number(values.clients ?? 2000);
const NS = 'bench';
const TARGET_MS = 2000;
const TARGET_RSS_MB = 1536;

function meshObjects(): object[] {
  const out: object[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    out.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { clusterIP: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'grpc', port: 8080 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
        ports: [{ name: 'grpc', port: 8080 }],
        endpoints: ['v1', 'v2'].map((v, j) => ({ addresses: [`10.200.${i & 255}.${(i >> 8) * 2 + j}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `${name}-${v}`, namespace: NS } })),
      },
      ...['v1', 'v2'].map((v) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-${v}`, namespace: NS, labels: { app: name, version: v } }, spec: {} })),
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: NS }, spec: { host: name, subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } },
    );
  }
  return out;
}

function routing(weightV1: (i: number) => number): object[] {
  return Array.from({ length: SERVICES }, (_, i) => ({
    apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `svc-${i}`, namespace: NS },
    spec: { hosts: [`svc-${i}`], http: [{ route: [{ destination: { host: `svc-${i}`, subset: 'v1' }, weight: weightV1(i) }, { destination: { host: `svc-${i}`, subset: 'v2' }, weight: 100 - weightV1(i) }] }] },
  }));
}

/** One proxyless client: follows the LDS -> RDS -> CDS -> EDS chain and ACKs every response. */
class Client {
  acked = new Map<string, string>();
  routeAckedAt = 0;
  private names = new Map<string, string[]>();

  constructor(readonly id: number, readonly stream: AdsStream<DiscoveryRequest, SotwResponse>, readonly target: string) {
    void this.loop();
    this.subscribe(TYPE.listener, [target], node(`sidecar~10.0.${id >> 8}.${id & 255}~client-${id}.${NS}~${NS}.svc.cluster.local`, { GENERATOR: 'grpc', NAMESPACE: NS }));
  }

  private subscribe(typeUrl: string, names: string[], n?: object): void {
    if (this.names.get(typeUrl)?.join() === names.join()) return;
    this.names.set(typeUrl, names);
    this.stream.send({ ...(n ? { node: n } : {}), type_url: typeUrl, resource_names: names, version_info: this.acked.get(typeUrl) ?? '', response_nonce: '' });
  }

  private async loop(): Promise<void> {
    for (;;) {
      const r = await this.stream.next(600_000);
      if (!r) return;
      const resources = r.resources.map((x) => decodeMessage<Record<string, any>>(x.type_url, x.value));
      this.stream.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: this.names.get(r.type_url) ?? [] });
      this.acked.set(r.type_url, r.version_info);
      if (r.type_url === TYPE.listener) this.subscribe(TYPE.route, resources.map((l) => l.api_listener.api_listener.value ? decodeMessage<Record<string, any>>(l.api_listener.api_listener.type_url, l.api_listener.api_listener.value).rds.route_config_name : ''));
      if (r.type_url === TYPE.route) {
        this.routeAckedAt = performance.now();
        const clusters = new Set<string>();
        for (const rc of resources) for (const vh of rc.virtual_hosts) for (const rt of vh.routes) {
          if (rt.route?.cluster) clusters.add(rt.route.cluster);
          for (const w of rt.route?.weighted_clusters?.clusters ?? []) clusters.add(w.name);
        }
        this.subscribe(TYPE.cluster, [...clusters].sort());
      }
      if (r.type_url === TYPE.cluster) this.subscribe(TYPE.endpoint, resources.map((c) => c.eds_cluster_config?.service_name ?? c.name).sort());
    }
  }

  synced(): boolean {
    return [TYPE.listener, TYPE.route, TYPE.cluster, TYPE.endpoint].every((t) => this.acked.has(t));
  }
}

function procStats(pid: number): { cpuMs: number; rssMb: number; peakMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuMs: ticks * 10, rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

const dir = scratchDir('meshd-bench-xds-');
writeFileSync(join(dir, 'services.yaml'), toYaml(meshObjects()));
writeFileSync(join(dir, 'routing.yaml'), toYaml(routing(() => 90)));
const meshd = await startMeshd(['--local-dir', dir]);
const pid = meshd.child.pid!;
console.log(`meshd up with ${SERVICES} services; connecting ${CLIENTS} proxyless clients`);
// Connections spread over 50 channels, 40 streams each (each real client would have its own).
const channels = Array.from({ length: 50 }, () => new AdsClient(`127.0.0.1:${meshd.xdsPort}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
let t0 = performance.now();
const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i, channels[i % channels.length]!.sotw(), `svc-${i % SERVICES}.${NS}.svc.cluster.local:8080`));
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
for (const c of clients) c.stream.close();
for (const ch of channels) ch.close();
await meshd.close();
process.exit(0);
