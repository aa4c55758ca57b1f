// The workload the agent serves, as a cluster without a kubelet can hold it: a namespace, a ServiceAccount,
// the Pod (its status set by hand: phase Running and the pod address run.sh puts on the loopback device),
// a selector-less Service with an EndpointSlice pointing at the pod's echo server (the pod is never Ready
// without a kubelet, so the EndpointSlice controller would not publish it), and what the kubelet would
// mount: a projected token bound to the pod (audience istio-ca, TokenRequest API) and meshd's
// istio-ca-root-cert ConfigMap.
import type { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { waitFor } from '../../helpers/meshd-process.js';
import { waitForServiceAccount } from '../../e2e/fixtures.js';

export interface Workload {
  namespace: string;
  pod: string;
  serviceAccount: string;
  service: string;
  servicePort: number;
  ip: string;
  labels: Record<string, string>;
}

export const OTHER_ACCOUNT = 'admin';

/** The xds:/// authority a client in the mesh uses for the workload's Service. */
export const serviceHost = (w: Workload): string => `${w.service}.${w.namespace}.svc.cluster.local:${w.servicePort}`;

export async function createWorkload(
  core: CoreV1Api,
  custom: CustomObjectsApi,
  w: Workload,
  backendPort: number,
): Promise<string> {
  const { namespace } = w;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await waitForServiceAccount(core, namespace);
  // OTHER_ACCOUNT: the account refused callers claim (it exists, so only the token tells them apart).
  for (const name of [w.serviceAccount, OTHER_ACCOUNT])
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: w.pod, labels: w.labels, annotations: { 'inject.istio.io/templates': 'grpc-agent' } },
      spec: {
        serviceAccountName: w.serviceAccount,
        containers: [
          { name: 'app', image: 'echo' },
          { name: 'istio-proxy', image: 'proxyv2', args: ['proxy', 'sidecar'] },
        ],
      },
    },
  });
  await core.replaceNamespacedPodStatus({
    namespace,
    name: w.pod,
    body: { ...pod, status: { phase: 'Running', podIP: w.ip, podIPs: [{ ip: w.ip }], hostIP: '127.0.0.1' } },
  });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name: w.service },
      spec: { ports: [{ name: 'grpc', port: w.servicePort, targetPort: backendPort }] },
    },
  });
  await custom.createNamespacedCustomObject({
    group: 'discovery.k8s.io',
    version: 'v1',
    namespace,
    plural: 'endpointslices',
    body: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${w.service}-0`, namespace, labels: { 'kubernetes.io/service-name': w.service } },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port: backendPort, protocol: 'TCP' }],
      endpoints: [
        { addresses: [w.ip], conditions: { ready: true }, targetRef: { kind: 'Pod', name: w.pod, namespace } },
      ],
    },
  });
  return pod.metadata!.uid!;
}

/** The kubelet's projected istio-token: audience istio-ca, 12 h as Istio's template asks, bound to the pod. */
export async function projectedToken(
  core: CoreV1Api,
  w: Workload,
  podUid: string,
  audience = 'istio-ca',
): Promise<string> {
  const r = await core.createNamespacedServiceAccountToken({
    namespace: w.namespace,
    name: w.serviceAccount,
    body: {
      spec: {
        audiences: [audience],
        expirationSeconds: 43200,
        boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: w.pod, uid: podUid },
      },
    },
  });
  return r.status!.token;
}

/** root-cert.pem of istio-ca-root-cert, which meshd's namespace controller writes into every namespace. */
export async function meshRootConfigMap(core: CoreV1Api, namespace: string): Promise<string> {
  return waitFor(
    `istio-ca-root-cert in ${namespace}`,
    async () => {
      const cm = await core.readNamespacedConfigMap({ namespace, name: 'istio-ca-root-cert' }).catch(() => undefined);
      return cm?.data?.['root-cert.pem'] || undefined;
    },
    30_000,
  );
}
