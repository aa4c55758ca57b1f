// Soak: mixed injection and validation reviews at a fixed rate against a real `meshd serve` process for
// 10 minutes (by default), sampling its RSS, heap and the window's p99 latency every 10 s, then reporting
// the drift between the first and the last minute. Every pod is distinct, so caches fill to their bounds.
//
// Usage: tsx bench/soak.ts [--seconds 600] [--rate 200]
import { Agent, request } from 'node:https';
import { parseArgs } from 'node:util';
import { startMeshd } from '../test/helpers/meshd-process.js';
import { getText } from '../test/helpers/servers.js';

const { values } = parseArgs({ options: { seconds: { type: 'string' }, rate: { type: 'string' } } });
const seconds = Number(values.seconds ?? 600);
const rate = Number(values.rate ?? 200);
const SAMPLE_MS = 10_000;

const meshd = await startMeshd(['--native-sidecars', 'false']);
const agent = new Agent({ keepAlive: true, maxSockets: 32, ca: meshd.ca });

let n = 0;
function body(): { path: string; data: Buffer } {
  n++;
  const request = n % 2 === 0
    ? { uid: `i${n}`, kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'soak', operation: 'CREATE', object: { metadata: { name: `pod-${n}`, namespace: 'soak', labels: { app: `app-${n % 500}` } }, spec: { containers: [{ name: 'app', image: `nginx:${n}` }] } } }
    : { uid: `v${n}`, kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, resource: { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' }, namespace: 'soak', operation: 'CREATE', object: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `vs-${n}`, namespace: 'soak' }, spec: { hosts: [`svc-${n}`], http: [{ route: [{ destination: { host: `svc-${n}`, subset: 'v1' }, weight: 90 }, { destination: { host: `svc-${n}`, subset: 'v2' }, weight: 10 }] }] } } };
  return { path: n % 2 === 0 ? '/inject' : '/validate', data: Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request })) };
}

let window: number[] = [];
let errors = 0;
function send(): void {
  const { path, data } = body();
  const t0 = performance.now();
  const req = request({ host: '127.0.0.1', port: meshd.webhookPort, path, method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode !== 200) errors++;
      window.push(performance.now() - t0);
    });
  });
  req.on('error', () => errors++);
  req.end(data);
}

const metric = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
const samples: Array<{ t: number; rssMiB: number; heapMiB: number; p99: number; count: number }> = [];
const started = Date.now();
const tick = setInterval(() => {
  for (let i = 0; i < rate / 100; i++) send();
}, 10);
console.log(`soak: ${seconds} s at ${rate} reviews/s (half /inject, half /validate), sampled every ${SAMPLE_MS / 1000} s`);
console.log('   t s   RSS MiB  heap MiB   p99 ms  reviews');
await new Promise<void>((resolve) => {
  const sampler = setInterval(async () => {
    const lat = window.sort((a, b) => a - b);
    window = [];
    const m = (await getText(meshd.monitoringPort, '/metrics')).body;
    const s = { t: Math.round((Date.now() - started) / 1000), rssMiB: metric(m, 'process_resident_memory_bytes') / 1048576, heapMiB: metric(m, 'nodejs_heap_size_used_bytes') / 1048576, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN, count: lat.length };
    samples.push(s);
    console.log(`${String(s.t).padStart(6)} ${s.rssMiB.toFixed(1).padStart(9)} ${s.heapMiB.toFixed(1).padStart(9)} ${s.p99.toFixed(2).padStart(8)} ${String(s.count).padStart(8)}`);
    if (Date.now() - started >= seconds * 1000) {
      clearInterval(sampler);
      resolve();
    }
  }, SAMPLE_MS);
});
clearInterval(tick);
agent.destroy();
await meshd.close();

const perMinute = Math.max(1, Math.round(60_000 / SAMPLE_MS));
const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const first = samples.slice(0, perMinute);
const last = samples.slice(-perMinute);
const drift = (k: 'rssMiB' | 'heapMiB' | 'p99'): string => `${avg(first.map((s) => s[k])).toFixed(1)} -> ${avg(last.map((s) => s[k])).toFixed(1)} (x${(avg(last.map((s) => s[k])) / avg(first.map((s) => s[k]))).toFixed(2)})`;
console.log(`first minute -> last minute: RSS MiB ${drift('rssMiB')}, heap MiB ${drift('heapMiB')}, p99 ms ${drift('p99')}; errors ${errors}`);
