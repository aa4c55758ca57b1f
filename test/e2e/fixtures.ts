// Setup the e2e suites share: nodes with a kubelet version, waiting for a namespace's default service
// account (pods are refused until the controller manager makes it), and meshd's injection webhook
// registered by URL as Istio's chart registers its `namespace.` webhook.
import { AdmissionregistrationV1Api, type CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { waitFor } from '../helpers/meshd-process.js';
import type { Cluster } from './cluster.js';

/** Kubelet 1.33 is where istiod starts choosing native sidecars (when every node runs it or later). */
const NATIVE_SIDECAR_MINOR = 33;

/** A node whose kubelet is of the API server's own release, as a real node of this cluster would report. */
export async function setClusterNode(core: CoreV1Api, cluster: Cluster, name = 'node-a'): Promise<void> {
  await setNode(core, name, cluster.version);
}

/** Whether pods on the nodes setClusterNode registers get native sidecars. */
export const nativeSidecars = (cluster: Cluster): boolean => cluster.minor >= NATIVE_SIDECAR_MINOR;

/** The containers that run for the pod's life, in start order: native sidecars (init, restartPolicy Always) first. */
export function runningContainers(pod: V1Pod): string[] {
  const native = (pod.spec!.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...native, ...pod.spec!.containers].map((c) => c.name);
}

/** runningContainers of `app` injected on this cluster's nodes: classic after the app, native before it. */
export const injectedContainers = (cluster: Cluster, app = 'app'): string[] =>
  (nativeSidecars(cluster) ? ['istio-proxy', app] : [app, 'istio-proxy']);

/** Creates node `name`, or updates it, reporting `kubeletVersion`. */
export async function setNode(core: CoreV1Api, name: string, kubeletVersion: string): Promise<void> {
  try {
    const created = await core.createNode({ body: { metadata: { name } } });
    await core.replaceNodeStatus({ name, body: { ...created, status: { nodeInfo: { kubeletVersion } } } as never });
  } catch {
    const existing = await core.readNode({ name });
    await core.replaceNodeStatus({ name, body: { ...existing, status: { ...existing.status, nodeInfo: { ...existing.status!.nodeInfo!, kubeletVersion } } } as never });
  }
}

export async function waitForServiceAccount(core: CoreV1Api, namespace: string): Promise<void> {
  await waitFor(`the default service account in ${namespace}`, async () => ((await core.listNamespacedServiceAccount({ namespace })).items.length > 0 ? true : undefined), 30_000);
}

/** MutatingWebhookConfiguration istio-sidecar-injector (revision default) calling `url`; no caBundle unless given. */
export async function registerInjector(kc: KubeConfig, url: string, caBundlePem?: string): Promise<void> {
  await kc.makeApiClient(AdmissionregistrationV1Api).createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'istio-sidecar-injector', labels: { 'istio.io/rev': 'default' } },
      webhooks: [
        {
          name: 'namespace.sidecar-injector.istio.io',
          clientConfig: { url, ...(caBundlePem ? { caBundle: Buffer.from(caBundlePem).toString('base64') } : {}) },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
          objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
          sideEffects: 'None',
          failurePolicy: 'Fail',
          admissionReviewVersions: ['v1'],
        },
      ],
    },
  });
}
