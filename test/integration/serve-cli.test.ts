// `meshd serve` as a process: local mode reads and re-reads ConfigMaps from a directory, keeps the last
// good settings on a bad change, and keeps serving through the shutdown delay after SIGTERM.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { getText, post, type TestServers } from '../helpers/servers.js';
import { scratchDir } from '../helpers/scratch.js';

const ROOT = join(import.meta.dirname, '..', '..');
let m: MeshdProcess;
let s: TestServers;
let dir: string;
const logs = (): string => m.logs();
const ctx = (): string => logs();

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
  dir = scratchDir('meshd-local-');
  cpSync(join(ROOT, 'test', 'fixtures', 'local'), dir, { recursive: true });
  m = await startMeshd(['--local-dir', dir, '--shutdown-delay', '2']);
  s = m;
});
after(async () => m.close());

describe('meshd serve in local mode', () => {
  it('injects with the values from the istio-sidecar-injector ConfigMap in the directory', async () => {
    assert.ok((await proxyArgs()).includes('--proxyLogLevel=info'));
  });
  it('reloads when the ConfigMap file changes', async () => {
    writeFileSync(join(dir, 'injector.yaml'), readFileSync(join(dir, 'injector.yaml'), 'utf8').replace('"logLevel": "info"', '"logLevel": "debug"'));
    await waitFor('the new log level', async () => ((await proxyArgs()).includes('--proxyLogLevel=debug') ? true : undefined), 15_000, ctx);
  });
  it('keeps the last good settings when the change is invalid', async () => {
    writeFileSync(join(dir, 'injector.yaml'), readFileSync(join(dir, 'injector.yaml'), 'utf8').replace('{"global"', '[not json'));
    await waitFor('the error to be logged', () => (/invalid injector settings/.test(logs()) ? true : undefined), 15_000, ctx);
    assert.ok((await proxyArgs()).includes('--proxyLogLevel=debug'));
  });
  it('on SIGTERM turns not-ready but keeps serving for the shutdown delay, then exits', async () => {
    const exited = new Promise<number | null>((resolve) => m.child.on('exit', (code) => resolve(code)));
    m.child.kill('SIGTERM');
    await waitFor('not ready', async () => ((await getText(s.monitoringPort, '/ready')).status === 503 ? true : undefined), 15_000, ctx);
    assert.equal((await post(s, '/inject', review)).json().response.allowed, true);
    assert.equal(await exited, 0);
  });
});
