// Setup the e2e suites share: nodes with a kubelet version, waiting for a namespace's default service
// account (pods are refused until the controller manager makes it), and meshd's injection webhook
// registered by URL as Istio's chart registers its `namespace.` webhook.
import { AdmissionregistrationV1Api, type CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../helpers/meshd-process.js';

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
