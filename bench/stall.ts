// One request must not stall everything: `meshd serve --local-dir` gets a worst-case ~3 MiB admission
// review every second (the shapes of test/helpers/hostile-reviews, in turn) while /healthz is sampled every
// 50 ms and a VirtualService is changed every 3 s, each change timed until a connected proxyless client
// has ACKed the new routes. The same runs first without the hostile load, as the baseline.
//
// Prints /healthz p50/p99 (target p99 < 100 ms) and the change-to-ACK time (target < 2 s) for both phases,
// their ratios to the targets and to the baseline, and what the hostile reviews got back.
//
// Usage: npm run bench:stall [-- --seconds 30 --baseline-seconds 10 --mib 3 --root DIR]
// (--root runs another checkout's meshd, e.g. the code before a change, with this checkout's load.)
import { writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequest } from '../src/xds/ads.js';
import { TYPE } from '../src/xds/protos.js';
import { AdsClient, decoded, node, type AdsStream, type SotwResponse } from '../test/helpers/ads-client.js';
import { hostileReviews, type HostileReview } from '../test/helpers/hostile-reviews.js';
import { toYaml } from '../test/helpers/mesh-objects.js';
import type { MeshdProcess } from '../test/helpers/meshd-process.js';
import { scratchDir } from '../test/helpers/scratch.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, 'baseline-seconds': { type: 'string' }, mib: { type: 'string' }, root: { type: 'string' } } });
const SECONDS = Number(values.seconds ?? 30);
const BASELINE_SECONDS = Number(values['baseline-seconds'] ?? 10);
const MIB = Number(values.mib ?? 3);
const ROOT = resolve(values.root ?? join(import.meta.dirname, '..'));
const HEALTHZ_TARGET_MS = 100;
const ACK_TARGET_MS = 2000;
const NS = 'bench';
const TARGET = `web.${NS}.svc.cluster.local:8080`;

const { startMeshd, waitFor } = (await import(join(ROOT, 'test/helpers/meshd-process.ts'))) as typeof import('../test/helpers/meshd-process.js');

/** The hostile shapes, each scaled so that its body is about MIB MiB. */
function hostileLoad(): HostileReview[] {
  const unit = hostileReviews(0.1);
  return unit.map((r, i) => hostileReviews(Math.max(0.1, (0.1 * MIB * 2 ** 20) / r.body.length))[i]!);
}

function meshObjects(weightV1: number): string {
  return toYaml([
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { clusterIP: '10.100.0.1', ports: [{ name: 'grpc', port: 8080 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web', namespace: NS, labels: { 'kubernetes.io/service-name': 'web' } },
      ports: [{ name: 'grpc', port: 8080 }],
      endpoints: ['v1', 'v2'].map((v, j) => ({ addresses: [`10.200.0.${j + 1}`], conditions: { ready: true }, targetRef: { kind: 'Pod', name: `web-${v}`, namespace: NS } })),
    },
    ...['v1', 'v2'].map((v) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${v}`, namespace: NS, labels: { app: 'web', version: v } }, spec: {} })),
    { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: 'web', namespace: NS }, spec: { host: 'web', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } },
    {
      apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web', namespace: NS },
      spec: { hosts: ['web'], http: [{ route: [{ destination: { host: 'web', subset: 'v1' }, weight: weightV1 }, { destination: { host: 'web', subset: 'v2' }, weight: 100 - weightV1 }] }] },
    },
  ]);
}

/** A proxyless client that follows LDS to RDS and ACKs both; remembers when it last ACKed routes. */
class RouteWatcher {
  routeVersion = '';
  routeAckedAt = 0;
  private routeNames: string[] = [];

  constructor(private readonly stream: AdsStream<DiscoveryRequest, SotwResponse>) {
    stream.send({ node: node(`sidecar~10.0.0.9~client.${NS}~${NS}.svc.cluster.local`, { GENERATOR: 'grpc', NAMESPACE: NS }), type_url: TYPE.listener, resource_names: [TARGET], version_info: '', response_nonce: '' } as DiscoveryRequest);
    void this.loop();
  }

  private async loop(): Promise<void> {
    for (;;) {
      const r = await this.stream.next(600_000);
      if (!r) return;
      const names = r.type_url === TYPE.listener ? [TARGET] : this.routeNames;
      this.stream.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names } as DiscoveryRequest);
      if (r.type_url === TYPE.listener) {
        const rds = decoded(r).map((l) => decoded({ resources: [l.api_listener.api_listener] } as SotwResponse)[0]?.rds?.route_config_name as string);
        if (rds.join() !== this.routeNames.join()) {
          this.routeNames = rds;
          this.stream.send({ type_url: TYPE.route, resource_names: rds, version_info: '', response_nonce: '' } as DiscoveryRequest);
        }
      } else if (r.type_url === TYPE.route) {
        this.routeVersion = r.version_info;
        this.routeAckedAt = performance.now();
      }
    }
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function healthz(port: number): Promise<number> {
  const t0 = performance.now();
  try {
    await (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).text();
  } catch {
    return 10_000;
  }
  return performance.now() - t0;
}

function send(meshd: MeshdProcess, agent: Agent, r: HostileReview): Promise<{ ms: number; answer: string }> {
  const t0 = performance.now();
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port: meshd.webhookPort, path: r.path, method: 'POST', agent, ca: meshd.ca, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(r.body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let answer = `HTTP ${res.statusCode}`;
        try {
          const resp = JSON.parse(Buffer.concat(chunks).toString('utf8')).response;
          answer = resp.allowed === r.allowed ? 'correct' : `wrong: ${String(resp.status?.message ?? resp.allowed).split('\n')[0]!.slice(0, 80)}`;
        } catch {
          // not JSON: the HTTP status says it
        }
        done({ ms: performance.now() - t0, answer });
      });
    });
    req.on('error', (e) => done({ ms: performance.now() - t0, answer: `error: ${e.message}` }));
    req.end(r.body);
  });
}

/** Changes made so far: each writes a weight the previous one did not. */
let changes = 0;

/** meshd's event-loop delay since the previous scrape (prom-client resets its histogram on each). */
async function loopLag(meshd: MeshdProcess): Promise<{ p99: number; max: number }> {
  const text = await fetch(`http://127.0.0.1:${meshd.monitoringPort}/metrics`, { signal: AbortSignal.timeout(120_000) }).then((r) => r.text(), () => '');
  const v = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: v('nodejs_eventloop_lag_p99_seconds'), max: v('nodejs_eventloop_lag_max_seconds') };
}

interface Phase {
  lag?: { p99: number; max: number };
  unanswered?: number;
  healthz: number[];
  acks: number[];
  reviews: Array<{ name: string; ms: number; answer: string }>;
}

async function phase(meshd: MeshdProcess, dir: string, watcher: RouteWatcher, seconds: number, load: HostileReview[]): Promise<Phase> {
  const out: Phase = { healthz: [], acks: [], reviews: [] };
  await healthz(meshd.monitoringPort); // the sampler's connection, opened before measuring
  await loopLag(meshd);
  const end = performance.now() + seconds * 1000;
  const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: meshd.ca });
  const sampler = (async () => {
    while (performance.now() < end) {
      const started = performance.now();
      out.healthz.push(await healthz(meshd.monitoringPort));
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (performance.now() - started))));
    }
  })();
  const inFlight: Array<Promise<void>> = [];
  const sender = (async () => {
    for (let i = 0; load.length > 0 && performance.now() < end; i++) {
      const r = load[i % load.length]!;
      inFlight.push(send(meshd, agent, r).then((x) => void out.reviews.push({ name: r.name, ...x })));
      await new Promise((res) => setTimeout(res, 1000));
    }
  })();
  const changer = (async () => {
    while (performance.now() + 3000 < end) {
      const n = ++changes;
      const before = watcher.routeVersion;
      const t0 = performance.now();
      writeFileSync(join(dir, 'mesh.yaml'), meshObjects(10 + (n % 80)));
      try {
        await waitFor('the route change to be ACKed', () => (watcher.routeVersion !== before ? true : undefined), 60_000);
        out.acks.push(watcher.routeAckedAt - t0);
      } catch {
        out.acks.push(Infinity); // not ACKed within a minute
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 3000 - (performance.now() - t0))));
    }
  })();
  await Promise.all([sampler, sender, changer]);
  out.lag = await loopLag(meshd);
  // Reviews still unanswered a minute after the phase are reported as such.
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 60_000))]);
  out.unanswered = inFlight.length - out.reviews.length;
  agent.destroy();
  return out;
}

function summary(label: string, p: Phase, base?: Phase): void {
  const [h50, h99, a50, aMax] = [pct(p.healthz, 50), pct(p.healthz, 99), pct(p.acks, 50), Math.max(...p.acks)];
  const vs = (x: number, b: number | undefined): string => (b ? `, ${(x / b).toFixed(1)}x baseline` : '');
  console.log(`${label}: /healthz p50 ${h50.toFixed(1)} ms, p99 ${h99.toFixed(1)} ms (ratio to the ${HEALTHZ_TARGET_MS} ms target ${(h99 / HEALTHZ_TARGET_MS).toFixed(2)}${vs(h99, base && pct(base.healthz, 99))}), max ${Math.max(...p.healthz).toFixed(0)} ms over ${p.healthz.length} samples`);
  console.log(`${label}: meshd event-loop delay p99 ${p.lag?.p99.toFixed(1)} ms, max ${p.lag?.max.toFixed(1)} ms`);
  console.log(`${label}: VirtualService change to ACK median ${a50.toFixed(0)} ms, max ${aMax.toFixed(0)} ms (ratio to the ${ACK_TARGET_MS} ms target ${(aMax / ACK_TARGET_MS).toFixed(2)}${vs(aMax, base && Math.max(...base.acks))}) over ${p.acks.length} changes`);
}

const dir = scratchDir('meshd-bench-stall-');
const fixtures = join(import.meta.dirname, '..', 'test', 'fixtures', 'local');
for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(dir, f));
writeFileSync(join(dir, 'mesh.yaml'), meshObjects(90));
const load = hostileLoad();
console.log(`hostile reviews (one a second, in turn): ${load.map((r) => `${r.name} ${(r.body.length / 2 ** 20).toFixed(1)} MiB`).join('; ')}`);
const meshd = await startMeshd(['--local-dir', dir, '--native-sidecars', 'false']);
console.log(`meshd from ${ROOT} is up`);
const client = new AdsClient(`127.0.0.1:${meshd.xdsPort}`, grpc.credentials.createInsecure());
const watcher = new RouteWatcher(client.sotw());
await waitFor('the client to get routes', () => (watcher.routeVersion ? true : undefined), 30_000, () => meshd.logs().slice(-2000));

const baseline = await phase(meshd, dir, watcher, BASELINE_SECONDS, []);
summary('baseline (no hostile load)', baseline);
const hostile = await phase(meshd, dir, watcher, SECONDS, load);
summary('hostile load', hostile, baseline);
const byName = new Map<string, Array<{ ms: number; answer: string }>>();
for (const r of hostile.reviews) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
console.log(`hostile reviews: ${hostile.reviews.length} answered, ${hostile.unanswered ?? 0} unanswered a minute after the load ended`);
for (const [name, rs] of byName) console.log(`  ${name}: answered in ${rs.map((r) => r.ms.toFixed(0)).join(', ')} ms; ${[...new Set(rs.map((r) => r.answer))].join('; ')}`);
client.close();
await meshd.close();
process.exit(0);
