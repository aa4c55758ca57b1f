// Cluster mode: keeps the object store in step with the API server for the kinds the injector reads:
// ConfigMaps in meshd's namespace (mesh config, injector config), Nodes (native sidecar detection) and
// Namespaces (OpenShift UID ranges).
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../telemetry/logger.js';
import { watchResource, type ResilientInformer } from './informer.js';
import type { KubeObject, ObjectStore } from './store.js';

/** Typed client objects turned into plain JSON, with the kind the list responses leave out. */
function plain(kind: string, obj: KubernetesObject): KubeObject {
  return { ...(JSON.parse(JSON.stringify(obj)) as KubeObject), kind };
}

export async function watchCluster(kc: KubeConfig, namespace: string, store: ObjectStore, logger: Logger): Promise<() => Promise<void>> {
  const core = kc.makeApiClient(CoreV1Api);
  const informers: ResilientInformer[] = [];
  const watch = <T extends KubernetesObject>(kind: string, path: string, list: () => Promise<{ items: T[] }>): void => {
    informers.push(
      watchResource(kc, path, list as never, {
        upsert: (o) => store.upsert(plain(kind, o), `cluster:${kind}`),
        remove: (o) => store.remove(kind, o.metadata?.namespace, o.metadata?.name ?? ''),
        // A re-list replaces what we had of this kind, dropping objects deleted while we were not watching.
        synced: (items) => store.replaceSource(`cluster:${kind}`, items.map((i) => plain(kind, i))),
        error: (err, retryInMs) => logger.warn({ kind, err: (err as Error)?.message ?? String(err), retryInMs }, 'watch failed; restarting'),
      }),
    );
  };
  watch('ConfigMap', `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace }));
  watch('Node', '/api/v1/nodes', () => core.listNode());
  watch('Namespace', '/api/v1/namespaces', () => core.listNamespace());
  await Promise.all(informers.map((i) => i.ready));
  return async () => {
    await Promise.all(informers.map((i) => i.stop()));
  };
}
