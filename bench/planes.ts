// `--peer istiod`: real istiod (`pilot-discovery` from test/peers) and meshd in cluster mode on one real
// API server, configured alike (test/conformance/istiod/configure.ts: the same mesh config and injector
// ConfigMaps). bench/peer.sh runs a bench inside fresh network and PID namespaces for this.
//
// The planes run one after the other, never together: on this 2-core machine an idle plane still takes
// a share (informers, leases), and the bench's own load generator needs the rest.
import { join } from 'node:path';
import { startCluster, type Cluster, type ClusterOptions } from '../test/e2e/cluster.js';
import { configure, NS } from '../test/conformance/istiod/setup.js';
import { startIstiod } from '../test/conformance/istiod/istiod.js';
import { startMeshd } from '../test/helpers/meshd-process.js';

export type PlaneName = 'meshd' | 'istiod';

export interface Plane {
  name: PlaneName;
  /** HTTPS /inject and /validate. */
  webhookPort: number;
  /** Plaintext xDS (istiod's --grpcAddr, meshd's --xds-port). */
  xdsPort: number;
  pid: number;
  logs(): string;
  close(): Promise<void>;
}

/** The --peer flag: undefined (meshd alone, as without the flag) or 'istiod'. */
export function peerFlag(value: string | boolean | undefined): 'istiod' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'istiod') throw new Error(`--peer: only "istiod" is supported, not ${String(value)}`);
  if (!process.env.MESHD_PEERS_BIN) throw new Error('--peer istiod needs the peers and a private network: run it as `bash bench/peer.sh <bench> ...`');
  return value;
}

/** A cluster holding what both planes read at start. */
export async function startPeerCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await startCluster(opts);
  try {
    await configure(cluster);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

export async function startPlane(name: PlaneName, cluster: Cluster, env: NodeJS.ProcessEnv = {}): Promise<Plane> {
  // Both choose native sidecars from the node, as conformance:istiod's first round does.
  const common = { ENABLE_NATIVE_SIDECARS: 'auto', ...env };
  if (name === 'istiod') {
    const i = await startIstiod(join(process.env.MESHD_PEERS_BIN!, 'pilot-discovery'), cluster.kubeconfig, common);
    return { name, webhookPort: i.webhookPort, xdsPort: i.grpcPort, pid: i.pid, logs: i.logs, close: i.close };
  }
  const m = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], { ENABLE_LEADER_ELECTION: 'false', POD_NAMESPACE: NS, ...common });
  return { name, webhookPort: m.webhookPort, xdsPort: m.xdsPort, pid: m.child.pid!, logs: m.logs, close: m.close };
}

/**
 * Runs `fn` against each plane alone: istiod first (it creates istio-ca-secret, which meshd then loads, as
 * in conformance:istiod), then meshd. `envFor` gives a plane extra environment.
 */
export async function eachPlane<T>(cluster: Cluster, fn: (plane: Plane) => Promise<T>, envFor: (name: PlaneName) => NodeJS.ProcessEnv = () => ({})): Promise<Record<PlaneName, T>> {
  const out: Partial<Record<PlaneName, T>> = {};
  for (const name of ['istiod', 'meshd'] as const) {
    const plane = await startPlane(name, cluster, envFor(name));
    try {
      out[name] = await fn(plane);
    } finally {
      await plane.close();
    }
  }
  return out as Record<PlaneName, T>;
}
