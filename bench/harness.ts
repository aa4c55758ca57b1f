// Shared machinery of the webhook benchmarks: meshd and a trivial Fastify HTTPS echo, each in its own
// process, and a keep-alive HTTPS load generator on 127.0.0.1 that reports throughput and latency.
//
// Run as a script with `--serve meshd|echo` it is one of those servers.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:https';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { selfSignedBundle } from '../src/ca/self-signed.js';
import { tlsServerOptions } from '../src/net/tls-policy.js';
import { buildWebhookApp } from '../src/server/webhook-app.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { testSettings } from '../test/helpers/settings.js';
import { ratio } from './ratio.js';

async function serve(kind: string): Promise<void> {
  const bundle = await selfSignedBundle('istio-system', 'default');
  const tls = { cert: bundle.serving.certPem, key: bundle.serving.keyPem };
  let app;
  if (kind === 'meshd') {
    const settings = testSettings();
    app = buildWebhookApp({ logger: createLogger('silent'), metrics: createMetrics(), settingsFor: (_p, _n, envs) => ({ ...settings, proxyEnvs: envs }), tls });
  } else {
    app = Fastify({ https: { ...tlsServerOptions(), ...tls }, bodyLimit: 6 * 1024 * 1024, keepAliveTimeout: 65_000 });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
    app.post('/*', async (req, reply) => reply.type('application/json').send(req.body));
  }
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port, ca: bundle.ca.certPem })}\n`);
}

export async function startServer(kind: string): Promise<{ port: number; ca: string; stop(): void }> {
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

export interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** `ca` undefined: the server's certificate is not checked (a peer's own CA, as for istiod's webhook). */
export async function load(port: number, path: string, ca: string | undefined, bodyFor: () => Buffer, seconds: number, concurrency: number, check: (status: number, text: string) => boolean): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ...(ca === undefined ? { rejectUnauthorized: false } : { ca }) });
  const once = (): Promise<{ ms: number; ok: boolean }> =>
    new Promise((resolve) => {
      const body = bodyFor();
      const t0 = process.hrtime.bigint();
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
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


export function row(label: string, server: string, r: Result): string {
  return `${label.padEnd(24)} ${server.padEnd(6)} ${r.rps.toFixed(0).padStart(9)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)}`;
}

/** meshd's figures over the other server's (throughput: above 1 is faster; latency: below 1 is faster). */
export function ratioRow(label: string, m: Result, other: Result): string {
  return `${label.padEnd(24)} ${'ratio'.padEnd(6)} ${ratio(m.rps, other.rps).padStart(9)} ${ratio(m.p50, other.p50).padStart(8)} ${ratio(m.p99, other.p99).padStart(8)} ${'-'.padStart(7)}`;
}

export const HEADER = 'requests                 server  reviews/s   p50 ms   p99 ms  errors';

/** Runs `fn` against a meshd and an echo server, stopping both afterwards. */
export async function withServers(fn: (meshd: { port: number; ca: string }, echo: { port: number; ca: string }) => Promise<void>): Promise<void> {
  const meshd = await startServer('meshd');
  const echo = await startServer('echo');
  try {
    await fn(meshd, echo);
  } finally {
    meshd.stop();
    echo.stop();
  }
}

const { values } = parseArgs({ options: { serve: { type: 'string' } }, strict: false });
if (typeof values.serve === 'string') await serve(values.serve);
