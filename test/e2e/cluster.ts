// A real Kubernetes control plane for end-to-end tests: etcd, kube-apiserver and kube-controller-manager
// on 127.0.0.1 with client-certificate auth and RBAC. Meant to run inside `unshare -n` (see run.sh).
// The binaries come from $MESHD_KUBE_BIN: Kubernetes v1.36 from test/peers (with its etcd), or v1.20 from
// ../shared/k8s (etcd from PATH); the few flags that differ between the two are chosen from `--version`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The API server's minor version (20 or 36 here), from `kube-apiserver --version`. */
  minor: number;
  /** Its `gitVersion`, e.g. `v1.36.3`: what a kubelet of the same release reports on its Node. */
  version: string;
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

/** The address run.sh puts on the loopback device for backends behind EndpointSlices (v1 refuses 127.0.0.0/8). */
export function podIp(): string {
  const ip = process.env.MESHD_E2E_POD_IP;
  if (!ip) throw new Error('MESHD_E2E_POD_IP is not set: run the e2e suite with `npm run test:e2e`');
  return ip;
}

/** `v1.36.3` and 36 from `kube-apiserver --version` (`Kubernetes v1.36.3`). */
export function binaryVersion(apiserver: string): { version: string; minor: number } {
  const out = spawnSync(apiserver, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /(v1\.(\d+)\.\d+)/.exec(out);
  if (!m) throw new Error(`cannot read the version of ${apiserver}: ${out}`);
  return { version: m[1]!, minor: Number(m[2]) };
}

export interface ClusterOptions {
  /** --service-cluster-ip-range; the default /24 holds 254 Services, too few for the xDS bench's 1,000. */
  serviceCidr?: string;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const bin = process.env.MESHD_KUBE_BIN;
  if (!bin) throw new Error('MESHD_KUBE_BIN is not set: run the e2e suite with `npm run test:e2e`');
  const { version, minor } = binaryVersion(join(bin, 'kube-apiserver'));
  const etcdBin = existsSync(join(bin, 'etcd')) ? join(bin, 'etcd') : 'etcd';
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
  let etcd = run('etcd', etcdBin, etcdArgs, logs);
  const apiArgs = [
    '--etcd-servers', `http://127.0.0.1:${etcdPort}`,
    '--bind-address', '127.0.0.1',
    '--advertise-address', '127.0.0.1',
    '--secure-port', String(apiPort),
    // Removed in v1.24 (the insecure port is gone); v1.20 still opens 8080 without it.
    ...(minor < 24 ? ['--insecure-port', '0'] : []),
    '--tls-cert-file', join(dir, 'apiserver.crt'),
    '--tls-private-key-file', join(dir, 'apiserver.key'),
    '--client-ca-file', join(dir, 'ca.crt'),
    '--authorization-mode', 'RBAC',
    '--service-account-key-file', join(dir, 'sa.pub'),
    '--service-account-signing-key-file', join(dir, 'sa.key'),
    '--service-account-issuer', 'https://kubernetes.default.svc.cluster.local',
    '--api-audiences', 'https://kubernetes.default.svc.cluster.local,istio-ca',
    '--service-cluster-ip-range', opts.serviceCidr ?? '10.0.0.0/24',
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
    ...(minor < 24 ? ['--port', '0'] : []),
    '--secure-port', '0',
  ], logs);
  return {
    kubeconfig,
    server,
    kc,
    dir,
    ca,
    minor,
    version,
    stopApiServer: async () => stopProcess(apiserver),
    startApiServer,
    restartEtcd: async (downMs: number) => {
      await stopProcess(etcd);
      await sleep(downMs);
      etcd = run('etcd', etcdBin, etcdArgs, logs);
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
