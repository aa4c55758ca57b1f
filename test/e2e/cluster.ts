// A real Kubernetes control plane for end-to-end tests: etcd, kube-apiserver and kube-controller-manager
// on 127.0.0.1 with client-certificate auth and RBAC. Meant to run inside `unshare -n` (see run.sh).
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { createCA, signCertificate, type KeyPairPem } from '../../src/ca/self-signed.js';
import { freePort } from '../helpers/servers.js';

export { freePort };

export interface Cluster {
  kubeconfig: string;
  server: string;
  kc: KubeConfig;
  dir: string;
  ca: KeyPairPem;
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  /** Stops etcd (the API server stays up, failing) and starts it again on the same data. */
  restartEtcd(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** A kubeconfig for `server` (trusting `caPem`) as `user`, with the given credentials. */
export function writeKubeconfig(file: string, server: string, caPem: string, user: string, credentials: Record<string, string>): void {
  writeFileSync(file, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: credentials }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user } }],
    'current-context': 'e2e',
  }), { mode: 0o600 });
}

function run(name: string, bin: string, args: string[], logs: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    logs.push(`[${name}] ${d.toString()}`);
    if (logs.length > 400) logs.splice(0, logs.length - 400);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function startCluster(): Promise<Cluster> {
  const bin = process.env.MESHD_KUBE_BIN;
  if (!bin) throw new Error('MESHD_KUBE_BIN is not set: run the e2e suite with `npm run test:e2e`');
  const dir = mkdtempSync(join(tmpdir(), 'meshd-e2e-'));
  const logs: string[] = [];
  const ca = await createCA('meshd-e2e-ca', 'e2e');
  const serving = await signCertificate(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'], ips: ['127.0.0.1', '10.0.0.1'], usage: 'server' });
  const admin = await signCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const files: Record<string, string> = {
    'ca.crt': ca.certPem,
    'ca.key': ca.keyPem,
    'apiserver.crt': serving.certPem,
    'apiserver.key': serving.keyPem,
    'admin.crt': admin.certPem,
    'admin.key': admin.keyPem,
    'sa.pub': sa.publicKey,
    'sa.key': sa.privateKey,
  };
  for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content, { mode: 0o600 });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(dir, 'kubeconfig');
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  writeKubeconfig(kubeconfig, server, ca.certPem, 'admin', { 'client-certificate-data': b64(admin.certPem), 'client-key-data': b64(admin.keyPem) });

  const etcdArgs = [
    '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${etcdPort}`,
    '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `default=http://127.0.0.1:${peerPort}`,
    '--log-level', 'warn',
  ];
  let etcd = run('etcd', 'etcd', etcdArgs, logs);
  const apiArgs = [
    '--etcd-servers', `http://127.0.0.1:${etcdPort}`,
    '--bind-address', '127.0.0.1',
    '--advertise-address', '127.0.0.1',
    '--secure-port', String(apiPort),
    '--insecure-port', '0',
    '--tls-cert-file', join(dir, 'apiserver.crt'),
    '--tls-private-key-file', join(dir, 'apiserver.key'),
    '--client-ca-file', join(dir, 'ca.crt'),
    '--authorization-mode', 'RBAC',
    '--service-account-key-file', join(dir, 'sa.pub'),
    '--service-account-signing-key-file', join(dir, 'sa.key'),
    '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
    '--api-audiences', 'https://kubernetes.default.svc.cluster.local,istio-ca',
    '--service-cluster-ip-range', '10.0.0.0/24',
    '--endpoint-reconciler-type', 'none',
    '--allow-privileged',
  ];
  let apiserver: ChildProcess | undefined;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + 60_000;
    const { request } = await import('node:https');
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const req = request(`${server}/readyz`, { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        });
        req.on('error', () => resolve(false));
        req.end();
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`kube-apiserver did not become ready:\n${logs.slice(-40).join('')}`);
      await sleep(250);
    }
  };
  const startApiServer = async (): Promise<void> => {
    apiserver = run('kube-apiserver', join(bin, 'kube-apiserver'), apiArgs, logs);
    await waitReady();
  };
  await startApiServer();
  const controllers = run('kube-controller-manager', join(bin, 'kube-controller-manager'), [
    '--kubeconfig', kubeconfig,
    '--controllers', 'namespace,serviceaccount,serviceaccount-token,deployment,replicaset,garbagecollector,endpointslice',
    '--service-account-private-key-file', join(dir, 'sa.key'),
    '--root-ca-file', join(dir, 'ca.crt'),
    '--leader-elect=false',
    '--port', '0',
    '--secure-port', '0',
  ], logs);
  return {
    kubeconfig,
    server,
    kc,
    dir,
    ca,
    stopApiServer: async () => stopProcess(apiserver),
    startApiServer,
    restartEtcd: async (downMs: number) => {
      await stopProcess(etcd);
      await sleep(downMs);
      etcd = run('etcd', 'etcd', etcdArgs, logs);
      await waitReady();
    },
    stop: async () => {
      await stopProcess(controllers);
      await stopProcess(apiserver);
      await stopProcess(etcd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
