// Memory from caller-chosen names: `meshd serve --local-dir` with a mesh fixture, then unauthenticated
// streams on the plain port (15010) that each send one RDS request naming tens of thousands of made-up
// resources, from a different node (address, labels; Envoy sidecars and proxyless clients alternating)
// each time. Reports meshd's V8 heap after full GCs (bench/heap-probe.mjs, loaded into meshd with
// --expose-gc, collects on SIGWINCH): at baseline, with the attack's streams open, and after they close,
// against the target of ending within 64 MB of the baseline.
//
// --max-names sets meshd's MESHD_XDS_MAX_NAMES, e.g. above --names to measure the caches alone.
//
// Usage: npm run bench:xds-attack [-- --requests 30 --names 80000 --services 500 --max-names N]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { TYPE } from '../src/xds/protos.js';
import { AdsClient, node } from '../test/helpers/ads-client.js';
import { toYaml } from '../test/helpers/mesh-objects.js';
import { startMeshd, waitFor, type MeshdProcess } from '../test/helpers/meshd-process.js';
import { scratchDir } from '../test/helpers/scratch.js';

const { values } = parseArgs({ options: { requests: { type: 'string' }, names: { type: 'string' }, services: { type: 'string' }, 'max-names': { type: 'string' } } });
const REQUESTS = Number(values.requests ?? 30);
const NAMES = Number(values.names ?? 80_000);
const SERVICES = Number(values.services ?? 500);
const NS = 'bench';
const TARGET_MB = 64;

function meshObjects(): object[] {
  const out: object[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const name = `svc-${i}`;
    out.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { clusterIP: `10.100.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 8080 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ addresses: [`10.200.${i >> 8}.${i & 255}`], conditions: { ready: true } }],
      },
      { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name, namespace: NS }, spec: { host: name, subsets: [{ name: 'v1', labels: { version: 'v1' } }] } },
    );
  }
  return out;
}

/** meshd's heap in use after full GCs, from the probe's next line on its stderr. */
async function heapMb(meshd: MeshdProcess): Promise<number> {
  const seen = meshd.logs().split('heap-probe ').length;
  meshd.child.kill('SIGWINCH');
  const line = await waitFor('the heap probe', () => {
    const parts = meshd.logs().split('heap-probe ');
    return parts.length > seen ? parts.at(-1)!.split('\n')[0]! : undefined;
  }, 30_000, () => `${meshd.child.exitCode} ${meshd.logs().slice(-1500)}`);
  return (JSON.parse(line) as { heapUsed: number }).heapUsed / 2 ** 20;
}

const dir = scratchDir('meshd-bench-attack-');
writeFileSync(join(dir, 'mesh.yaml'), toYaml(meshObjects()));
const probe = join(import.meta.dirname, 'heap-probe.mjs');
const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import ${probe}`.trim(), ...(values['max-names'] ? { MESHD_XDS_MAX_NAMES: values['max-names'] } : {}) };
const meshd = await startMeshd(['--local-dir', dir], env);
await sleep(2_000); // the first push context is built after the debounce
const baseline = await heapMb(meshd);
console.log(`meshd up with ${SERVICES} services; heap after GC ${baseline.toFixed(1)} MB`);

const channels = Array.from({ length: 5 }, () => new AdsClient(`127.0.0.1:${meshd.xdsPort}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
const outcomes = new Map<string, number>();
const streams = await Promise.all(Array.from({ length: REQUESTS }, async (_, r) => {
  const s = channels[r % channels.length]!.sotw();
  const proxyless = r % 2 === 1;
  const id = `sidecar~10.${50 + (r >> 8)}.${r & 255}.${r % 200}~attack-${r}.${NS}~${NS}.svc.cluster.local`;
  const names = Array.from({ length: NAMES }, (_, i) => `outbound|8080||a${r}-${i}.${NS}.svc.cluster.local`);
  s.send({ node: node(id, { ...(proxyless ? { GENERATOR: 'grpc' } : {}), LABELS: { attack: String(r), pad: 'x'.repeat(64) } }), type_url: TYPE.route, resource_names: names });
  const first = await Promise.race([s.next(30_000).then((res) => (res ? 'answered' : 'no answer')), s.failure().then((e) => `closed: ${e ? grpc.status[e.code] : 'OK'}`)]);
  outcomes.set(first, (outcomes.get(first) ?? 0) + 1);
  return s;
}));
console.log(`${REQUESTS} RDS requests of ${NAMES} names: ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')}`);
const open = await heapMb(meshd);
console.log(`heap after GC with the attack's streams open: ${open.toFixed(1)} MB (+${(open - baseline).toFixed(1)} MB)`);
for (const s of streams) s.close();
for (const c of channels) c.close();
await sleep(1_000);
const after = await heapMb(meshd);
const delta = after - baseline;
console.log(`heap after GC once they closed: ${after.toFixed(1)} MB (+${delta.toFixed(1)} MB; ratio to the ${TARGET_MB} MB target ${(delta / TARGET_MB).toFixed(2)})`);
await meshd.close();
