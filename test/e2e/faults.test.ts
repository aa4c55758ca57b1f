// Faults through the real API server: meshd killed and restarted under a stream of pod creations (no pod is
// ever admitted without its sidecar; while meshd is down creations fail, visibly), and etcd restarted under
// meshd's watches (its caches recover: new namespaces get istio-ca-root-cert, ConfigMap edits reach it).
// API server restarts are covered in control-plane.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { errorMessage } from '../../src/kube/errors.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { freePort, startCluster, type Cluster } from './cluster.js';
import { injectedContainers, registerInjector, runningContainers, setClusterNode, waitForServiceAccount } from './fixtures.js';

let cluster: Cluster;
let core: CoreV1Api;
let meshd: MeshdProcess | undefined;
let port: number;

const start = async (): Promise<MeshdProcess> => (meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--webhook-port', String(port), '--retry-period', '500ms'], { CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL: '1s' }));

before(async () => {
  cluster = await startCluster();
  core = cluster.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
  await setClusterNode(core, cluster);
  port = await freePort();
  await start();
  await registerInjector(cluster.kc, `https://127.0.0.1:${port}/inject`);
  await core.createNamespace({ body: { metadata: { name: 'stream', labels: { 'istio-injection': 'enabled' } } } });
  await waitForServiceAccount(core, 'stream');
});

after(async () => {
  await meshd?.close();
  await cluster?.stop();
});

describe('faults', () => {
  it('never admits a pod without its sidecar while meshd is killed and restarted under a stream of creations', async () => {
    await waitFor('injection working', async () => {
      const pod = await core.createNamespacedPod({ namespace: 'stream', body: { metadata: { generateName: 'warm-' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } }).catch(() => undefined);
      return pod && runningContainers(pod).length === 2 ? true : undefined;
    }, 30_000, () => meshd!.logs());
    const admitted: string[][] = [];
    const refused: string[] = [];
    let running = true;
    const stream = (async () => {
      while (running) {
        try {
          const pod = await core.createNamespacedPod({ namespace: 'stream', body: { metadata: { generateName: 'p-' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } });
          admitted.push(runningContainers(pod));
        } catch (err) {
          refused.push(errorMessage(err));
        }
        await sleep(20);
      }
    })();
    await sleep(1_000);
    meshd!.child.kill('SIGKILL');
    await meshd!.close();
    await sleep(1_500);
    await start();
    const afterRestart = admitted.length;
    await waitFor('pods admitted again', () => (admitted.length > afterRestart + 10 ? true : undefined), 30_000, () => meshd!.logs());
    running = false;
    await stream;
    assert.ok(admitted.length > 20, `admitted ${admitted.length}`);
    assert.ok(refused.length > 0, 'creations failed while meshd was down');
    for (const names of admitted) assert.deepEqual(names, injectedContainers(cluster));
    for (const msg of refused) assert.match(msg, /failed calling webhook "namespace.sidecar-injector.istio.io"/);
  });

  it('recovers its watches after etcd restarts', async () => {
    await cluster.restartEtcd(3_000);
    await core.createNamespace({ body: { metadata: { name: 'after-etcd' } } });
    await waitFor('istio-ca-root-cert after the etcd restart', async () => ((await core.readNamespacedConfigMap({ namespace: 'after-etcd', name: 'istio-ca-root-cert' }).catch(() => undefined)) ? true : undefined), 60_000, () => meshd!.logs());
    await core.createNamespacedConfigMap({ namespace: 'istio-system', body: { metadata: { name: 'istio-sidecar-injector' }, data: { values: JSON.stringify({ global: { proxy: { logLevel: 'error' } } }) } } });
    let n = 0;
    await waitFor('an injector ConfigMap made after the etcd restart to take effect', async () => {
      const pod = await core.createNamespacedPod({ namespace: 'stream', body: { metadata: { name: `etcd-${n++}` }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } }).catch(() => undefined);
      return [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].find((c) => c.name === 'istio-proxy')?.args?.includes('--proxyLogLevel=error') ? true : undefined;
    }, 30_000, () => meshd!.logs());
  });
});
