// Runs `meshd serve` as a child process on 127.0.0.1 ephemeral ports and waits until it is ready.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestServers } from './servers.js';
import { scratchDir } from './scratch.js';

const ROOT = join(import.meta.dirname, '..', '..');

export interface MeshdProcess extends TestServers {
  child: ChildProcess;
  caFile: string;
  xdsPort: number;
  xdsTlsPort: number;
  logs(): string;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, context: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await sleep(100);
  }
}

export async function startMeshd(args: string[], env: NodeJS.ProcessEnv = {}): Promise<MeshdProcess> {
  const caFile = join(scratchDir('meshd-ca-'), 'ca.pem');
  let logs = '';
  const child = spawn(
    process.execPath,
    ['bin/meshd.js', 'serve', '--address', '127.0.0.1', '--webhook-port', '0', '--monitoring-port', '0', '--xds-port', '0', '--xds-tls-port', '0', '--ca-out', caFile, ...args],
    { cwd: ROOT, env: { ...process.env, ENABLE_NATIVE_SIDECARS: 'auto', KUBECONFIG: '', ...env } },
  );
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await waitFor('meshd to be ready', () => {
    if (child.exitCode !== null) throw new Error(`meshd exited with ${child.exitCode}:\n${logs}`);
    return /"webhookPort":(\d+),"monitoringPort":(\d+),"xdsPort":(\d+),"xdsTlsPort":(\d+).*meshd is ready/.exec(logs) ?? undefined;
  }, 30_000, () => logs);
  return {
    child,
    caFile,
    webhookPort: Number(ready[1]),
    monitoringPort: Number(ready[2]),
    xdsPort: Number(ready[3]),
    xdsTlsPort: Number(ready[4]),
    // With --tls-cert meshd signs nothing and writes no CA.
    ca: existsSync(caFile) ? readFileSync(caFile, 'utf8') : '',
    logs: () => logs,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
