// Starts meshd's real webhook and monitoring servers on 127.0.0.1 ephemeral ports for a test, with a
// fresh self-signed CA, and gives a small HTTPS client that trusts it.
import { request } from 'node:https';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { selfSignedBundle } from '../../src/ca/self-signed.js';
import type { SettingsProvider } from '../../src/inject/review.js';
import type { AdmissionRunner } from '../../src/server/admission-runner.js';
import { buildMonitoringApp } from '../../src/server/monitoring-app.js';
import { buildWebhookApp } from '../../src/server/webhook-app.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

export interface TestServers {
  webhookPort: number;
  monitoringPort: number;
  ca: string;
  close(): Promise<void>;
}

export async function startServers(settingsFor: SettingsProvider, requestTimeoutMs?: number, admission?: AdmissionRunner): Promise<TestServers> {
  const bundle = await selfSignedBundle('istio-system', 'default');
  const logger = createLogger('silent');
  const metrics = createMetrics();
  const webhook = buildWebhookApp({ logger, metrics, settingsFor, tls: { cert: bundle.serving.certPem, key: bundle.serving.keyPem }, requestTimeoutMs, admission });
  const monitoring = buildMonitoringApp(logger, metrics, { ready: true });
  await webhook.listen({ host: '127.0.0.1', port: 0 });
  await monitoring.listen({ host: '127.0.0.1', port: 0 });
  const port = (app: { server: { address(): unknown } }): number => (app.server.address() as { port: number }).port;
  return {
    webhookPort: port(webhook),
    monitoringPort: port(monitoring),
    ca: bundle.ca.certPem,
    close: async () => {
      await webhook.close();
      await monitoring.close();
      await admission?.close();
    },
  };
}

export interface Reply {
  status: number;
  body: string;
  json(): any;
}

export function post(s: TestServers, path: string, body: string | Buffer, contentType: string | null = 'application/json'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
    if (contentType !== null) headers['content-type'] = contentType;
    const req = request({ host: '127.0.0.1', port: s.webhookPort, path, method: 'POST', ca: s.ca, servername: 'localhost', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * POSTs headers declaring a body of `declaredBytes` but sends only 1 KiB, and returns the raw HTTP answer.
 * A server refusing by Content-Length answers at once and closes; a client still writing the whole body
 * would race the connection reset and might never read that answer.
 */
export async function postDeclaredSize(s: TestServers, path: string, declaredBytes: number): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port: s.webhookPort, ca: s.ca, servername: 'localhost' });
  await new Promise((r) => socket.once('secureConnect', r));
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  socket.on('error', () => undefined);
  const closed = new Promise((r) => socket.once('close', r));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n${' '.repeat(1024)}`);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
  socket.destroy();
  return answer;
}

export async function getText(port: number, path: string): Promise<{ status: number; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

/** A port that was free a moment ago on 127.0.0.1 (for servers that must bind a concrete port, such as XdsServer). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
