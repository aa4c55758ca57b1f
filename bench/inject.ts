// Injection throughput: AdmissionReviews per second and p50/p99 latency through meshd's HTTPS webhook,
// beside a trivial Fastify HTTPS echo of the same bodies in the same run, over keep-alive connections on
// 127.0.0.1. Prints the meshd/echo ratio. Each server runs in its own process; the load runs here.
//
// Usage: tsx bench/inject.ts [--seconds 5] [--concurrency 16]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { selfSignedBundle } from '../src/ca/self-signed.js';
import { parseYamlStream } from '../src/config/yaml.js';
import { buildWebhookApp, TLS_OPTIONS } from '../src/server/webhook-app.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { testSettings } from '../test/helpers/settings.js';

type Obj = Record<string, any>;

async function serve(kind: string): Promise<void> {
  const bundle = await selfSignedBundle('istio-system', 'default');
  const tls = { cert: bundle.serving.certPem, key: bundle.serving.keyPem };
  let app;
  if (kind === 'meshd') {
    const settings = testSettings();
    app = buildWebhookApp({ logger: createLogger('silent'), metrics: createMetrics(), settingsFor: (_p, _n, envs) => ({ ...settings, proxyEnvs: envs }), tls });
  } else {
    app = Fastify({ https: { ...TLS_OPTIONS, ...tls }, bodyLimit: 6 * 1024 * 1024, keepAliveTimeout: 65_000 });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
    app.post('/inject', async (req, reply) => reply.type('application/json').send(req.body));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port, ca: bundle.ca.certPem })}\n`);
}

/** The hello pod of Istio's injection goldens when ../shared is here, else the same pod written out. */
function helloPod(): Obj {
  const file = join(import.meta.dirname, '..', '..', 'shared', 'istio', 'inject', 'inject', 'hello.yaml');
  if (existsSync(file)) {
    const dep = parseYamlStream(readFileSync(file, 'utf8'), 'hello.yaml')[0] as Obj;
    return { apiVersion: 'v1', kind: 'Pod', metadata: { ...dep.spec.template.metadata, generateName: 'hello-fake-', namespace: 'default' }, spec: dep.spec.template.spec };
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'hello-fake-', namespace: 'default', labels: { app: 'hello', tier: 'backend', track: 'stable' } },
    spec: { containers: [{ name: 'hello', image: 'fake.docker.io/google-samples/hello-go-gke:1.0', ports: [{ name: 'http', containerPort: 80 }] }] },
  };
}

function bigPod(n: number): Obj {
  const containers = Array.from({ length: n }, (_, i) => ({
    name: `c${i}`,
    image: `registry.example/app-${i}:1.0`,
    ports: [{ name: `http-${i}`, containerPort: 8000 + i }],
    env: [{ name: 'INDEX', value: String(i) }],
    readinessProbe: { httpGet: { path: '/ready', port: 8000 + i } },
    resources: { requests: { cpu: '10m', memory: '16Mi' } },
  }));
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', namespace: 'default', labels: { app: 'big' } }, spec: { containers } };
}

function reviewBody(pod: Obj): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'bench', namespace: 'default', operation: 'CREATE', object: pod } }));
}

/**
 * Request bodies for a run. "same": every request carries the same pod, as the pods of one ReplicaSet
 * do. "distinct": each pod differs (a unique label), so nothing rendered for one can serve another.
 */
function bodies(pod: Obj, mode: 'same' | 'distinct'): () => Buffer {
  if (mode === 'same') {
    const body = reviewBody(pod);
    return () => body;
  }
  let n = 0;
  const head = reviewBody({ ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'bench-seq': 'SEQ' } } }).toString('utf8');
  return () => Buffer.from(head.replace('"SEQ"', `"${n++}"`));
}

async function startServer(kind: string): Promise<{ port: number; ca: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  const info = JSON.parse(line) as { port: number; ca: string };
  return { ...info, stop: () => child.kill() };
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(port: number, ca: string, bodyFor: () => Buffer, seconds: number, concurrency: number, check: (status: number, text: string) => boolean): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca });
  const once = (): Promise<{ ms: number; ok: boolean }> =>
    new Promise((resolve) => {
      const body = bodyFor();
      const t0 = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path: '/inject', method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: check(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, ok: false }));
      req.end(body);
    });
  // Warm up connections and the JIT before measuring.
  const warmUntil = Date.now() + 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < warmUntil) await once();
  }));
  const latencies: number[] = [];
  let errors = 0;
  const start = Date.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const r = await once();
      latencies.push(r.ms);
      if (!r.ok) errors++;
    }
  }));
  const elapsed = (Date.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { rps: latencies.length / elapsed, p50: pct(50), p99: pct(99), errors };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { serve: { type: 'string' }, seconds: { type: 'string' }, concurrency: { type: 'string' } } });
  if (values.serve) return serve(values.serve);
  const seconds = Number(values.seconds ?? 5);
  const concurrency = Number(values.concurrency ?? 16);
  const meshd = await startServer('meshd');
  const echo = await startServer('echo');
  const injected = (status: number, text: string): boolean => status === 200 && (JSON.parse(text) as Obj).response?.patchType === 'JSONPatch';
  const echoed = (status: number): boolean => status === 200;
  console.log(`bench/inject: ${seconds}s per run, ${concurrency} concurrent keep-alive HTTPS connections, 127.0.0.1`);
  console.log('pod/requests             server  reviews/s   p50 ms   p99 ms  errors');
  const ratios: string[] = [];
  try {
    for (const [name, pod] of [['hello', helloPod()], ['100-container', bigPod(100)]] as const) {
      for (const mode of ['same', 'distinct'] as const) {
        const label = `${name}/${mode}`;
        const m = await load(meshd.port, meshd.ca, bodies(pod, mode), seconds, concurrency, injected);
        const e = await load(echo.port, echo.ca, bodies(pod, mode), seconds, concurrency, echoed);
        for (const [server, r] of [['meshd', m], ['echo', e]] as const) {
          console.log(`${label.padEnd(24)} ${server.padEnd(6)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}`);
        }
        ratios.push(`${label}: meshd/echo throughput ratio ${(m.rps / e.rps).toFixed(2)} (target >= 0.35)`);
      }
    }
  } finally {
    meshd.stop();
    echo.stop();
  }
  for (const r of ratios) console.log(r);
}

await main();
