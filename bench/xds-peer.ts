// bench/xds --peer istiod: the same mesh (bench/xds-mesh.ts) in a real API server, served in turn by
// real istiod and by meshd in cluster mode, each alone, to the same proxyless clients on its plaintext
// xDS port. Per plane: the initial sync, then `rounds` single-VirtualService changes (each a different
// service, written through the API server): the time from the write until every client of that service
// has ACKed routes with the new weights, and the plane's CPU time until all streams are quiet again; at
// the end, the plane's peak RSS (VmHWM) and its CPU time since it started.
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '../test/e2e/cluster.js';
import { waitForServiceAccount } from '../test/e2e/fixtures.js';
import { waitFor } from '../test/helpers/meshd-process.js';
import { eachPlane, startPeerCluster, type Plane } from './planes.js';
import { procStats } from './proc-stats.js';
import { ratio } from './ratio.js';
import { connectClients, traffic, type Client } from './xds-client.js';
import { endpointIp, meshObjects, NS, routing } from './xds-mesh.js';

export interface PeerOptions {
  services: number;
  clients: number;
  rounds: number;
}

interface Change {
  ms: number;
  cpuS: number;
  /** Responses every client got, from the write until all streams were quiet. */
  responses: number;
}

interface Figures {
  syncS: number;
  syncCpuS: number;
  changes: Change[];
  peakMb: number;
  totalCpuS: number;
}

/** How long no client may receive anything for a push to count as over. */
const QUIET_MS = 1000;
/** The parallel writers that fill the API server. */
const WRITERS = 16;

/** Writes the mesh: each pod then gets an IP, Running and Ready, as a kubelet would report it. */
async function fill(cluster: Cluster, services: number): Promise<void> {
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const objects = cluster.kc.makeApiClient(KubernetesObjectApi);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await waitForServiceAccount(core, NS);
  const all = [...meshObjects(services), ...routing(services, () => 90)] as KubernetesObject[];
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < all.length) {
      const o = all[next++]!;
      if (o.kind === 'Service') {
        // The API server allocates the address from its range.
        const { clusterIP: _ignored, ...spec } = (o as { spec: Record<string, unknown> }).spec;
        await objects.create({ ...o, spec } as KubernetesObject);
      } else if (o.kind === 'Pod') {
        const name = o.metadata!.name!;
        const [, i, v] = /^svc-(\d+)-v(\d)$/.exec(name)!;
        const ip = endpointIp(Number(i), Number(v) - 1);
        const created = await core.createNamespacedPod({ namespace: NS, body: { ...(o as V1Pod), spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'bench.example/app:1' }] } } });
        const status = { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] };
        await core.replaceNamespacedPodStatus({ name, namespace: NS, body: { ...created, status } });
      } else {
        await objects.create(o);
      }
    }
  }));
}

async function quiet(): Promise<void> {
  await waitFor('every stream to be quiet', () => (performance.now() - traffic.lastAt >= QUIET_MS ? true : undefined), 300_000);
}

/** Changes svc-i's v1 weight through the API server and waits for its clients' new routes. */
async function change(cluster: Cluster, plane: Plane, clients: Client[], i: number): Promise<Change> {
  const objects = cluster.kc.makeApiClient(KubernetesObjectApi);
  const target = `svc-${i}.`;
  const affected = clients.filter((c) => c.target.startsWith(target));
  const vs = await objects.read({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `svc-${i}`, namespace: NS } }) as KubernetesObject & { spec: { http: Array<{ route: Array<{ weight: number }> }> } };
  const route = vs.spec.http[0]!.route;
  // A weight neither plane has served for this service yet in this run.
  const w = route[0]!.weight >= 20 ? route[0]!.weight - 10 : route[0]!.weight + 30;
  [route[0]!.weight, route[1]!.weight] = [w, 100 - w];
  const before = new Map(affected.map((c) => [c, c.routeDigest]));
  const cpu0 = procStats(plane.pid).cpuMs;
  const responses0 = traffic.responses;
  const t0 = performance.now();
  await objects.replace(vs);
  await waitFor(`${plane.name}: the clients of svc-${i} to ACK new routes`, () => (affected.every((c) => c.routeDigest !== before.get(c)) ? true : undefined), 120_000, () => plane.logs().slice(-3000));
  const ms = Math.max(...affected.map((c) => c.routeChangedAt)) - t0;
  await quiet();
  return { ms, cpuS: (procStats(plane.pid).cpuMs - cpu0) / 1000, responses: traffic.responses - responses0 };
}

async function measure(cluster: Cluster, plane: Plane, opts: PeerOptions): Promise<Figures> {
  const cpu0 = procStats(plane.pid).cpuMs;
  const t0 = performance.now();
  const connected = connectClients(`127.0.0.1:${plane.xdsPort}`, opts.clients, opts.services);
  const { clients } = connected;
  try {
    await waitFor(`${plane.name}: every client synced`, () => (clients.every((c) => c.synced()) ? true : undefined), 900_000, () => `${clients.filter((c) => c.synced()).length} synced\n${plane.logs().slice(-3000)}`);
    const syncS = (performance.now() - t0) / 1000;
    await quiet();
    const syncCpuS = (procStats(plane.pid).cpuMs - cpu0) / 1000;
    console.log(`${plane.name}: ${opts.clients} clients synced in ${syncS.toFixed(2)} s`);
    const changes: Change[] = [];
    // Services spread over the range; both planes change the same ones.
    for (let r = 0; r < opts.rounds; r++) changes.push(await change(cluster, plane, clients, Math.floor(((r + 0.5) * opts.services) / opts.rounds)));
    const end = procStats(plane.pid);
    return { syncS, syncCpuS, changes, peakMb: end.peakMb, totalCpuS: end.cpuMs / 1000 };
  } finally {
    connected.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function table(opts: PeerOptions, f: Record<'meshd' | 'istiod', Figures>): string[] {
  const rows: Array<[string, (x: Figures) => number, number]> = [
    [`initial sync of ${opts.clients} clients, s`, (x) => x.syncS, 2],
    ['  plane CPU during it, s', (x) => x.syncCpuS, 2],
    [`one VirtualService change to ACK, s (median of ${opts.rounds})`, (x) => median(x.changes.map((c) => c.ms / 1000)), 3],
    [`  slowest of ${opts.rounds}, s`, (x) => Math.max(...x.changes.map((c) => c.ms / 1000)), 3],
    ['  plane CPU per change until quiet, s (median)', (x) => median(x.changes.map((c) => c.cpuS)), 2],
    ['  responses to clients per change (median)', (x) => median(x.changes.map((c) => c.responses)), 0],
    ['peak RSS (VmHWM), MB', (x) => x.peakMb, 0],
    ['plane CPU from its start to the end, s', (x) => x.totalCpuS, 1],
  ];
  const width = 52;
  return [
    `${''.padEnd(width)} ${'meshd'.padStart(9)} ${'istiod'.padStart(9)} ${'ratio'.padStart(7)}`,
    ...rows.map(([label, get, digits]) => `${label.padEnd(width)} ${get(f.meshd).toFixed(digits).padStart(9)} ${get(f.istiod).toFixed(digits).padStart(9)} ${ratio(get(f.meshd), get(f.istiod)).padStart(7)}`),
  ];
}

export async function versusIstiod(opts: PeerOptions): Promise<void> {
  const started = performance.now();
  // A /16 of Service addresses: the default /24 holds only 254 Services.
  const cluster = await startPeerCluster({ serviceCidr: '10.0.0.0/16' });
  try {
    await fill(cluster, opts.services);
    console.log(`bench/xds --peer istiod: ${opts.services} services (2 pods, a DestinationRule and a VirtualService each) in the API server after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`${opts.clients} proxyless clients (SotW, GENERATOR=grpc, plaintext xDS), connected to one plane at a time, istiod then meshd`);
    // istiod admits 15 + 5 x cores new streams a second by default (PILOT_MAX_REQUESTS_PER_SECOND) and fails
    // those that wait over 1 s; lifted so the initial sync measures serving, not that throttle (meshd has none).
    const figures = await eachPlane(cluster, (plane) => measure(cluster, plane, opts), (name) => (name === 'istiod' ? { PILOT_MAX_REQUESTS_PER_SECOND: '100000' } : {}));
    console.log('ratio = meshd / istiod (below 1: meshd took less)');
    for (const line of table(opts, figures)) console.log(line);
  } finally {
    await cluster.stop();
  }
}
