// `meshd serve` as a process: local mode reads and re-reads ConfigMaps from a directory, keeps the last
// good settings on a bad change, and keeps serving through the shutdown delay after SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { getText, post, type TestServers } from '../helpers/servers.js';

const ROOT = join(import.meta.dirname, '..', '..');
let child: ChildProcess;
let logs = '';
let s: TestServers;
let dir: string;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; logs:\n${logs}`);
    await sleep(100);
  }
}

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u', namespace: 'default', operation: 'CREATE', object: { metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
});

async function proxyArgs(): Promise<string[]> {
  const r = (await post(s, '/inject', review)).json();
  const patch = JSON.parse(Buffer.from(r.response.patch, 'base64').toString('utf8')) as Array<{ path: string; value: any }>;
  const inits = patch.find((op) => op.path === '/spec/initContainers')!.value as Array<{ name: string; args: string[] }>;
  return inits.find((c) => c.name === 'istio-proxy')!.args;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshd-local-'));
  cpSync(join(ROOT, 'test', 'fixtures', 'local'), dir, { recursive: true });
  const caFile = join(dir, 'ca.pem.out');
  child = spawn(process.execPath, ['bin/meshd.js', 'serve', '--local-dir', dir, '--address', '127.0.0.1', '--webhook-port', '0', '--monitoring-port', '0', '--ca-out', caFile, '--shutdown-delay', '2'], {
    cwd: ROOT,
    env: { ...process.env, ENABLE_NATIVE_SIDECARS: '' },
  });
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const ready = await waitFor('meshd to be ready', () => /"webhookPort":(\d+),"monitoringPort":(\d+).*meshd is ready/.exec(logs) ?? undefined);
  s = { webhookPort: Number(ready[1]), monitoringPort: Number(ready[2]), ca: readFileSync(caFile, 'utf8'), close: async () => {} };
});
after(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('meshd serve in local mode', () => {
  it('injects with the values from the istio-sidecar-injector ConfigMap in the directory', async () => {
    assert.ok((await proxyArgs()).includes('--proxyLogLevel=info'));
  });
  it('reloads when the ConfigMap file changes', async () => {
    writeFileSync(join(dir, 'injector.yaml'), readFileSync(join(dir, 'injector.yaml'), 'utf8').replace('"logLevel": "info"', '"logLevel": "debug"'));
    await waitFor('the new log level', async () => ((await proxyArgs()).includes('--proxyLogLevel=debug') ? true : undefined));
  });
  it('keeps the last good settings when the change is invalid', async () => {
    writeFileSync(join(dir, 'injector.yaml'), readFileSync(join(dir, 'injector.yaml'), 'utf8').replace('{"global"', '[not json'));
    await waitFor('the error to be logged', () => (/invalid injector settings/.test(logs) ? true : undefined));
    assert.ok((await proxyArgs()).includes('--proxyLogLevel=debug'));
  });
  it('on SIGTERM turns not-ready but keeps serving for the shutdown delay, then exits', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    await waitFor('not ready', async () => ((await getText(s.monitoringPort, '/ready')).status === 503 ? true : undefined));
    assert.equal((await post(s, '/inject', review)).json().response.allowed, true);
    assert.equal(await exited, 0);
  });
});
