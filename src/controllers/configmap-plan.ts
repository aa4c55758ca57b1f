// What the namespace controller should do to one ConfigMap, decided without I/O. Like istiod it owns a
// single key: a missing ConfigMap is created (with the istio.io/config label), an existing one gets only
// that key merged in, and nothing else a user put there (keys, labels, annotations) is touched.
import type { V1ConfigMap } from '@kubernetes/client-node';

export interface DistributedConfigMap {
  name: string;
  key: string;
}

export const ROOT_CERT_CONFIGMAP: DistributedConfigMap = { name: 'istio-ca-root-cert', key: 'root-cert.pem' };
export const CRL_CONFIGMAP: DistributedConfigMap = { name: 'istio-ca-crl', key: 'ca-crl.pem' };

/** Istio's ignored namespaces minus kube-system (which ztunnel may run in). */
export const SKIPPED_NAMESPACES = new Set(['kube-public', 'kube-node-lease', 'local-path-storage']);

export type ConfigMapAction = { create: V1ConfigMap } | { update: V1ConfigMap } | undefined;

export function planConfigMap(existing: V1ConfigMap | undefined, namespace: string, cm: DistributedConfigMap, value: string): ConfigMapAction {
  if (!existing) {
    return { create: { metadata: { name: cm.name, namespace, labels: { 'istio.io/config': 'true' } }, data: { [cm.key]: value } } };
  }
  if (existing.data?.[cm.key] === value) return undefined;
  return { update: { ...existing, data: { ...existing.data, [cm.key]: value } } };
}

export function namespaceWanted(name: string, phase: string | undefined): boolean {
  return !SKIPPED_NAMESPACES.has(name) && phase !== 'Terminating';
}
