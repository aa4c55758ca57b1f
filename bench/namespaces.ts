// Namespace controller fan-out on a real kube-apiserver: how long until 1,000 new namespaces all hold
// istio-ca-root-cert, beside how long the API server alone takes to create them. Prints the ratio
// (1.0 would mean the ConfigMaps arrive as fast as the namespaces themselves).
//
// Usage: bash bench/namespaces.sh [--count 1000] [--parallel 20]
// (the script runs this inside `unshare -n` with the e2e suite's API server binaries)
import { parseArgs } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { startMeshd, waitFor } from '../test/helpers/meshd-process.js';
import { startCluster } from '../test/e2e/cluster.js';

const { values } = parseArgs({ options: { count: { type: 'string' }, parallel: { type: 'string' } } });
const count = Number(values.count ?? 1000);
const parallel = Number(values.parallel ?? 20);

const cluster = await startCluster();
const core = cluster.kc.makeApiClient(CoreV1Api);
await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
const meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--retry-period', '200ms']);
try {
  const withConfigMap = async (): Promise<number> =>
    (await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=istio-ca-root-cert' })).items.filter((c) => c.metadata!.namespace!.startsWith('bench-')).length;
  // Wait for the controller to be up (it has put the ConfigMap in default).
  await waitFor('the namespace controller', async () => ((await core.listNamespacedConfigMap({ namespace: 'default' })).items.length > 0 ? true : undefined), 60_000, () => meshd.logs());

  const createAll = async (prefix: string): Promise<number> => {
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < count) {
          const i = next++;
          await core.createNamespace({ body: { metadata: { name: `${prefix}-${i}` } } });
        }
      }),
    );
    return performance.now() - start;
  };

  // Baseline: the same creations with meshd stopped. Then meshd starts and catches up on all of them.
  await meshd.close();
  const baselineMs = await createAll('base');
  const restart = performance.now();
  const meshd2 = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--retry-period', '200ms']);
  await waitFor('the namespace controller to catch up', async () => ((await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=istio-ca-root-cert' })).items.length >= count ? true : undefined), 300_000, () => meshd2.logs());
  const catchUpMs = performance.now() - restart;

  const start = performance.now();
  const createMs = await createAll('bench');
  await waitFor('every bench namespace to hold the ConfigMap', async () => ((await withConfigMap()) >= count ? true : undefined), 300_000, () => meshd2.logs());
  const allMs = performance.now() - start;
  await meshd2.close();

  console.log(`namespaces: ${count}, parallel creators: ${parallel}`);
  console.log(`API server alone, creating ${count} namespaces: ${(baselineMs / 1000).toFixed(2)} s`);
  console.log(`with meshd, creating them:                    ${(createMs / 1000).toFixed(2)} s`);
  console.log(`with meshd, until all hold istio-ca-root-cert: ${(allMs / 1000).toFixed(2)} s`);
  console.log(`meshd started after ${count} namespaces existed, until all held it: ${(catchUpMs / 1000).toFixed(2)} s`);
  console.log(`ratio (time to all ConfigMaps / API-server-only creation time): ${(allMs / baselineMs).toFixed(2)}`);
} finally {
  await meshd.close();
  await cluster.stop();
}
