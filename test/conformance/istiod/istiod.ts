// Real istiod (`pilot-discovery discovery`, built in test/peers) outside a pod, against the e2e cluster:
// every listener on 127.0.0.1, the working directory a temporary one. istiod looks for its injector
// files at ./var/lib/istio/inject/{config,values} and its mesh config at ./etc/istio/config/mesh relative to
// that directory (pilot/cmd/pilot-discovery/app/cmd.go); both are absent there, so it reads the
// istio-sidecar-injector and istio ConfigMaps of POD_NAMESPACE, as it does in a cluster
// (pilot/pkg/bootstrap/sidecarinjector.go, mesh.go). Its serving certificate on the webhook port is the one
// it signs for itself with its own CA (stored in istio-ca-secret, which meshd then shares).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../helpers/meshd-process.js';
import { freePort } from '../../helpers/servers.js';

export interface Istiod {
  webhookPort: number;
  /** xDS in plain text (istiod's 15010) and over TLS (15012). */
  grpcPort: number;
  grpcTlsPort: number;
  pid: number;
  /** Resolves when istiod's /ready answers 200: its informers have synced. */
  ready(): Promise<void>;
  logs(): string;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  body: string;
}

/** POSTs an AdmissionReview to a webhook on 127.0.0.1 (TLS, certificate not checked: the harness is the client). */
export function postReview(port: number, path: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${path} on ${port} timed out`)));
    req.end(body);
  });
}

const PROBE = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'probe', operation: 'CREATE', namespace: 'default', object: { metadata: { name: 'probe' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
});

/** Starts istiod and waits until its /inject answers with a patch (the injector ConfigMap is loaded). */
export async function startIstiod(bin: string, kubeconfig: string, env: NodeJS.ProcessEnv = {}): Promise<Istiod> {
  const cwd = mkdtempSync(join(tmpdir(), 'istiod-'));
  const [http, https, grpc, grpcTls, monitoring, ctrlz] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const args = [
    'discovery',
    '--kubeconfig', kubeconfig,
    '--httpAddr', `127.0.0.1:${http}`,
    '--httpsAddr', `127.0.0.1:${https}`,
    '--grpcAddr', `127.0.0.1:${grpc}`,
    '--secureGRPCAddr', `127.0.0.1:${grpcTls}`,
    '--monitoringAddr', `127.0.0.1:${monitoring}`,
    '--ctrlz_address', '127.0.0.1',
    '--ctrlz_port', String(ctrlz),
    '--log_output_level', 'default:info',
  ];
  let logs = '';
  const child: ChildProcess = spawn(bin, args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      POD_NAMESPACE: 'istio-system',
      POD_NAME: 'istiod-conformance',
      REVISION: 'default',
      CLUSTER_ID: 'Kubernetes',
      // No webhook configurations to patch here: the harness calls both webhooks itself.
      INJECTION_WEBHOOK_CONFIG_NAME: '',
      VALIDATION_WEBHOOK_CONFIG_NAME: '',
      ...env,
    },
  });
  const keep = (d: Buffer): void => {
    logs += d.toString();
    if (logs.length > 2_000_000) logs = logs.slice(-1_000_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  };
  try {
    await waitFor('istiod to inject', async () => {
      if (child.exitCode !== null) throw new Error(`istiod exited with ${child.exitCode}:\n${logs.slice(-6000)}`);
      const r = await postReview(https, '/inject', PROBE).catch(() => undefined);
      if (!r || r.status !== 200) return undefined;
      return (JSON.parse(r.body) as { response?: { patch?: string } }).response?.patch ? true : undefined;
    }, 90_000, () => logs.slice(-6000));
  } catch (e) {
    await close();
    throw e;
  }
  const ready = (): Promise<void> => waitFor('istiod to be ready', async () => {
    const r = await fetch(`http://127.0.0.1:${http}/ready`).catch(() => undefined);
    return r?.status === 200 ? true : undefined;
  }, 60_000, () => logs.slice(-6000)).then(() => undefined);
  return { webhookPort: https, grpcPort: grpc, grpcTlsPort: grpcTls, pid: child.pid!, ready, logs: () => logs, close };
}
