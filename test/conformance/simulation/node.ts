// The Envoy node (core.v3.Node as proto-JSON) a case's proxy presents, as istio-agent builds it: the id
// `<type>~<ip>~<id>~<dnsDomain>`, the service cluster, and the metadata istiod reads (the case's
// metadata, plus what the agent always sends: LABELS, NAMESPACE, INSTANCE_IPS, CLUSTER_ID, ISTIO_VERSION).
import type { CaseProxy } from './cases.js';

export interface EnvoyNode {
  id: string;
  cluster: string;
  metadata: Record<string, unknown>;
}

/** The fake Kubernetes registry's cluster in Istio's harness, and istio-agent's default CLUSTER_ID. */
const CLUSTER_ID = 'Kubernetes';

export function buildNode(p: CaseProxy): EnvoyNode {
  const ips = p.ips?.length ? p.ips : ['1.1.1.1'];
  const configNamespace = p.namespace || 'default';
  const given = p.metadata ?? {};
  const labels = (given.LABELS ?? p.labels ?? {}) as Record<string, string>;
  const namespace = typeof given.NAMESPACE === 'string' && given.NAMESPACE ? given.NAMESPACE : configNamespace;
  const metadata: Record<string, unknown> = {
    ...given,
    NAMESPACE: namespace,
    LABELS: labels,
    INSTANCE_IPS: ips.join(','),
    CLUSTER_ID: p.clusterID ?? (typeof given.CLUSTER_ID === 'string' ? given.CLUSTER_ID : CLUSTER_ID),
    ISTIO_VERSION: given.ISTIO_VERSION ?? p.istioVersion ?? '1.23.0',
  };
  // istio-agent's service cluster with the default tracing name: `<app>.<namespace>`, else istio-proxy's.
  const app = labels.app ?? labels['app.kubernetes.io/name'];
  return {
    id: `${p.type}~${ips[0]}~${p.id}~${p.dnsDomain || `${configNamespace}.svc.cluster.local`}`,
    cluster: `${app ?? 'istio-proxy'}.${namespace}`,
    metadata,
  };
}
