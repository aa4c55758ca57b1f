// A real `pilot-agent proxy sidecar` (built in test/peers) run as Istio's grpc-agent injection template runs
// it (no Envoy, ISTIO_META_GENERATOR=grpc, a gRPC bootstrap and certificate files for the app), outside a
// pod. The agent's pod paths are relative to its working directory (./var/run/secrets/tokens/istio-token,
// ./var/run/secrets/istio/root-cert.pem, ./etc/istio/pod/labels: pkg/config/constants, pkg/istio-agent), so a
// scratch directory stands in for the pod's root and the kubelet's volumes are files written into it. The
// paths the app reads (bootstrap, certificates, the xDS socket) are absolute in the bootstrap, so they are
// set to absolute paths in that directory: no mount namespace is needed and nothing is written outside it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scratchDir } from '../../helpers/scratch.js';
import { freePort } from '../../helpers/servers.js';

/** What the kubelet would give the pod: identity from the downward API and the projected volumes. */
export interface PodInfo {
  name: string;
  namespace: string;
  serviceAccount: string;
  ip: string;
  labels: Record<string, string>;
  /** The projected service-account token (audience istio-ca). */
  token: string;
  /** root-cert.pem of the istio-ca-root-cert ConfigMap. */
  rootCert: string;
}

export interface AgentPaths {
  root: string;
  bootstrap: string;
  certDir: string;
  xdsSocket: string;
}

export interface PilotAgent {
  paths: AgentPaths;
  logs(): string;
  /** Why the agent ended, with the last error it logged; undefined while it runs. */
  exited(): string | undefined;
  close(): Promise<void>;
}

/** Absolute paths the agent could use outside its working directory; a run must leave none of them behind. */
export const HOST_PATHS = [
  '/etc/istio',
  '/var/lib/istio',
  '/var/run/secrets/istio',
  '/var/run/secrets/tokens',
  '/var/run/secrets/workload-spiffe-uds',
  '/var/run/secrets/workload-spiffe-credentials',
  '/etc/certs',
];

function write(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
}

/** Starts the agent against meshd's secure xDS/CA port on 127.0.0.1. */
export async function startPilotAgent(bin: string, pod: PodInfo, meshdTlsPort: number): Promise<PilotAgent> {
  const root = scratchDir('meshd-agent-');
  const configPath = join(root, 'etc/istio/proxy');
  const paths: AgentPaths = {
    root,
    bootstrap: join(configPath, 'grpc-bootstrap.json'),
    certDir: join(root, 'var/lib/istio/data'),
    xdsSocket: join(configPath, 'XDS'),
  };
  write(join(root, 'var/run/secrets/tokens/istio-token'), pod.token);
  write(join(root, 'var/run/secrets/istio/root-cert.pem'), pod.rootCert);
  write(
    join(root, 'etc/istio/pod/labels'),
    Object.entries(pod.labels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n'),
  );
  // The template's emptyDir volumes: the agent writes into them but does not make them.
  const volumes = ['var/run/secrets/workload-spiffe-uds', 'var/run/secrets/workload-spiffe-credentials'].map((d) =>
    join(root, d),
  );
  for (const dir of [configPath, paths.certDir, ...volumes]) mkdirSync(dir, { recursive: true });
  // The proxy.istio.io/config the injector passes as PROXY_CONFIG; a free status port (15020 may be taken).
  const proxyConfig = {
    discoveryAddress: `127.0.0.1:${meshdTlsPort}`,
    configPath,
    statusPort: await freePort(),
    controlPlaneAuthPolicy: 'MUTUAL_TLS',
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    // meshd's serving certificate names istiod.istio-system.svc, not 127.0.0.1: ISTIOD_SAN is the agent's
    // documented override for an IP discovery address. Without CA_ADDR the CA is the discovery address and
    // takes the same name (options/security.go); the template's CA_ADDR would name the Service instead.
    ISTIOD_SAN: 'istiod.istio-system.svc',
    PILOT_CERT_PROVIDER: 'istiod',
    POD_NAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    INSTANCE_IP: pod.ip,
    SERVICE_ACCOUNT: pod.serviceAccount,
    HOST_IP: '127.0.0.1',
    ISTIO_META_GENERATOR: 'grpc',
    OUTPUT_CERTS: paths.certDir,
    GRPC_XDS_BOOTSTRAP: paths.bootstrap,
    PROXY_CONFIG: JSON.stringify(proxyConfig),
    ISTIO_META_POD_PORTS: '[]',
    ISTIO_META_APP_CONTAINERS: 'app',
    ISTIO_META_CLUSTER_ID: 'Kubernetes',
    ISTIO_META_NODE_NAME: 'node-a',
    ISTIO_META_WORKLOAD_NAME: pod.labels.app ?? pod.name,
    ISTIO_META_OWNER: `kubernetes://apis/v1/namespaces/${pod.namespace}/pods/${pod.name}`,
    ISTIO_META_MESH_ID: 'cluster.local',
    TRUST_DOMAIN: 'cluster.local',
    ISTIO_META_DNS_CAPTURE: 'false',
    DISABLE_ENVOY: 'true',
  };
  const args = [
    'proxy',
    'sidecar',
    '--domain',
    `${pod.namespace}.svc.cluster.local`,
    '--proxyLogLevel=warning',
    '--proxyComponentLogLevel=misc:error',
    '--log_output_level=default:info',
  ];
  let logs = '';
  const child: ChildProcess = spawn(bin, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer): void => {
    logs += d.toString();
    if (logs.length > 1_000_000) logs = logs.slice(-500_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    paths,
    logs: () => logs,
    exited: () => {
      if (child.exitCode === null && child.signalCode === null) return undefined;
      const error =
        logs
          .split('\n')
          .filter((l) => /^Error: |\terror\t/.test(l))
          .pop() ?? 'no error logged';
      return `pilot-agent exited (${child.exitCode ?? child.signalCode}): ${error.trim()}`;
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
