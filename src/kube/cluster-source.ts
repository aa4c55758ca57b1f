// Cluster mode: keeps the object store in step with the API server for the kinds meshd reads:
// ConfigMaps in meshd's namespace (mesh config, injector config), Nodes (native sidecar detection,
// localities) and Namespaces (OpenShift UID ranges); and for xDS, Services, EndpointSlices, Pods, Istio's
// networking config, and the Secrets that config names as credentials (src/kube/credential-secrets.ts).
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../telemetry/logger.js';
import { errorMessage, isNotFound } from './errors.js';
import { watchResource, type ResilientInformer } from './informer.js';
import type { KubeObject, ObjectStore } from './store.js';
import { watchCredentialSecrets } from './credential-secrets.js';

/** Typed client objects turned into plain JSON, with the kind the list responses leave out. */
function plain(kind: string, obj: KubernetesObject): KubeObject {
  return { ...(JSON.parse(JSON.stringify(obj)) as KubeObject), kind };
}

/**
 * What xDS reads of a Pod (labels, the sidecar status, service account, node, IP): status churn such as
 * container restarts and condition heartbeats then triggers no push, and the cache stays small.
 */
function slimPod(o: KubeObject): KubeObject {
  const m = (o.metadata ?? {}) as Record<string, unknown>;
  const ann = (m.annotations ?? {}) as Record<string, string>;
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const status = (o.status ?? {}) as Record<string, unknown>;
  return {
    kind: 'Pod',
    metadata: { name: m.name as string, namespace: m.namespace as string, labels: m.labels, annotations: ann['sidecar.istio.io/status'] ? { 'sidecar.istio.io/status': ann['sidecar.istio.io/status'] } : {} },
    spec: { serviceAccountName: spec.serviceAccountName, nodeName: spec.nodeName },
    status: { podIP: status.podIP },
  };
}

/** What meshd reads of a Node (locality labels, kubelet version): heartbeats trigger nothing. */
function slimNode(o: KubeObject): KubeObject {
  const m = (o.metadata ?? {}) as Record<string, unknown>;
  const nodeInfo = ((o.status ?? {}) as { nodeInfo?: { kubeletVersion?: string } }).nodeInfo;
  return { kind: 'Node', metadata: { name: m.name as string, labels: m.labels }, status: { nodeInfo: { kubeletVersion: nodeInfo?.kubeletVersion } } };
}

/** Istio networking kinds xDS reads, at a version every supported Istio CRD set serves (plus PeerAuthentication and AuthorizationPolicy below). */
const ISTIO_KINDS: Array<[kind: string, plural: string]> = [
  ['VirtualService', 'virtualservices'],
  ['DestinationRule', 'destinationrules'],
  ['Gateway', 'gateways'],
  ['ServiceEntry', 'serviceentries'],
  ['WorkloadEntry', 'workloadentries'],
  ['Sidecar', 'sidecars'],
];

/** discovery.k8s.io/v1 from Kubernetes 1.21; v1beta1 before it (and until 1.25). */
async function endpointSliceVersion(custom: CustomObjectsApi): Promise<string> {
  try {
    await custom.listClusterCustomObject({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', limit: 1 });
    return 'v1';
  } catch (err) {
    if (isNotFound(err)) return 'v1beta1';
    throw err;
  }
}

export async function watchCluster(kc: KubeConfig, namespace: string, store: ObjectStore, logger: Logger): Promise<() => Promise<void>> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const informers: ResilientInformer[] = [];
  const gates: Array<Promise<void>> = [];
  /**
   * `optional`: a kind whose API may be missing (CRDs not installed): startup does not wait for it.
   * `keep`: which objects are worth holding (the rest are treated as absent).
   * `project`: the part of an object meshd reads; an update that leaves it unchanged is not an event.
   */
  interface WatchOptions {
    optional?: boolean;
    keep?: (o: KubeObject) => boolean;
    project?: (o: KubeObject) => KubeObject;
  }
  const watch = <T extends KubernetesObject>(kind: string, path: string, list: () => Promise<{ items: T[] }>, opts: WatchOptions = {}): void => {
    const { optional = false, keep = () => true, project } = opts;
    let missing!: () => void;
    const absent = new Promise<void>((r) => (missing = r));
    const remove = (o: KubernetesObject): void => store.remove(kind, o.metadata?.namespace, o.metadata?.name ?? '');
    const view = (o: KubernetesObject): KubeObject => (project ? project(plain(kind, o)) : plain(kind, o));
    const informer = watchResource(kc, path, list as never, {
      upsert: (o) => {
        const p = view(o);
        if (!keep(p)) return remove(o);
        const prev = project && store.get(kind, o.metadata?.namespace, o.metadata?.name ?? '');
        if (prev && JSON.stringify(prev) === JSON.stringify(p)) return;
        store.upsert(p, `cluster:${kind}`);
      },
      remove,
      // A re-list replaces what we had of this kind, dropping objects deleted while we were not watching.
      synced: (items) => store.replaceSource(`cluster:${kind}`, items.map(view).filter(keep)),
      error: (err, retryInMs) => {
        if (optional && isNotFound(err)) missing();
        logger.warn({ kind, err: errorMessage(err), retryInMs }, 'watch failed; restarting');
      },
    });
    informers.push(informer);
    gates.push(optional ? Promise.race([informer.ready, absent]) : informer.ready);
  };
  const customList = (group: string, version: string, plural: string) => async () =>
    (await custom.listClusterCustomObject({ group, version, plural })) as { items: KubernetesObject[] };

  watch('ConfigMap', `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace }));
  watch('Node', '/api/v1/nodes', () => core.listNode(), { project: slimNode });
  watch('Namespace', '/api/v1/namespaces', () => core.listNamespace());
  watch('Service', '/api/v1/services', () => core.listServiceForAllNamespaces());
  watch('Pod', '/api/v1/pods', () => core.listPodForAllNamespaces(), { project: slimPod });
  const sliceVersion = await endpointSliceVersion(custom);
  watch('EndpointSlice', `/apis/discovery.k8s.io/${sliceVersion}/endpointslices`, customList('discovery.k8s.io', sliceVersion, 'endpointslices'));
  for (const [kind, plural] of ISTIO_KINDS) watch(kind, `/apis/networking.istio.io/v1beta1/${plural}`, customList('networking.istio.io', 'v1beta1', plural), { optional: true });
  for (const [kind, plural] of [['PeerAuthentication', 'peerauthentications'], ['AuthorizationPolicy', 'authorizationpolicies']] as const) {
    watch(kind, `/apis/security.istio.io/v1beta1/${plural}`, customList('security.istio.io', 'v1beta1', plural), { optional: true });
  }
  await Promise.all(gates);
  // Secrets last: with Gateways and DestinationRules known, the first list keeps what they name (no reads by name).
  const secrets = watchCredentialSecrets(kc, store, logger);
  informers.push(secrets);
  await secrets.ready;
  logger.info({ endpointSlices: `discovery.k8s.io/${sliceVersion}` }, 'cluster caches synced');
  return async () => {
    await Promise.all(informers.map((i) => i.stop()));
  };
}
