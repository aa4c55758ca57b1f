// The Envoy node a proxy presents, as istio-agent builds it from the injected pod (node id
// `<type>~<ip>~<pod>.<ns>~<ns>.svc.cluster.local`, metadata from the ISTIO_META_* env and the pod's
// labels). A proxyless gRPC client sends the same node with GENERATOR=grpc, as Istio's grpc-agent
// template sets it. Pure: the harness sends the same node to istiod and to meshd.

export type ProxyKind = 'sidecar' | 'gateway' | 'proxyless';

export interface ProxySpec {
  kind: ProxyKind;
  /** xDS protocol: Envoy sidecars and gateways use Delta (istio-agent's default), gRPC clients SotW. */
  protocol: 'delta' | 'sotw';
  ip: string;
  namespace: string;
  pod: string;
  workload: string;
  serviceAccount: string;
  labels: Record<string, string>;
  /** Listener names a proxyless client asks for (`host:port`). */
  listeners?: string[];
}

/** istio-agent's ISTIO_VERSION for the pinned istio module (1.31 branch). */
export const PROXY_VERSION = '1.31.0';

export function proxyNode(p: ProxySpec, proxyConfig: Record<string, unknown>): Record<string, unknown> {
  const type = p.kind === 'gateway' ? 'router' : 'sidecar';
  const domain = `${p.namespace}.svc.cluster.local`;
  const metadata: Record<string, unknown> = {
    ANNOTATIONS: { 'kubectl.kubernetes.io/default-container': 'app' },
    APP_CONTAINERS: 'app',
    CLUSTER_ID: 'Kubernetes',
    ENVOY_PROMETHEUS_PORT: 15090,
    ENVOY_STATUS_PORT: 15021,
    INSTANCE_IPS: p.ip,
    INTERCEPTION_MODE: 'REDIRECT',
    ISTIO_VERSION: PROXY_VERSION,
    LABELS: p.labels,
    MESH_ID: 'cluster.local',
    NAME: p.pod,
    NAMESPACE: p.namespace,
    NODE_NAME: 'node-a',
    OWNER: `kubernetes://apis/apps/v1/namespaces/${p.namespace}/deployments/${p.workload}`,
    PILOT_SAN: ['istiod.istio-system.svc'],
    PROXY_CONFIG: proxyConfig,
    SERVICE_ACCOUNT: p.serviceAccount,
    WORKLOAD_NAME: p.workload,
  };
  if (p.kind === 'proxyless') {
    metadata.GENERATOR = 'grpc';
    delete metadata.INTERCEPTION_MODE;
  }
  const app = p.labels.app ?? p.labels.istio ?? p.workload;
  return { id: `${type}~${p.ip}~${p.pod}.${p.namespace}~${domain}`, cluster: `${app}.${p.namespace}`, metadata };
}
