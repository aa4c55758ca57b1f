// What istiod and meshd both read from a fresh cluster before they start: Istio's CRDs, istio-system, a
// node of the API server's release, and the same mesh config and injector ConfigMaps (Istio's own
// templates with the injection fixtures' values, as Istio's chart renders them). Shared by
// conformance:istiod and the benches' --peer istiod.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Cluster } from '../../e2e/cluster.js';
import { setClusterNode } from '../../e2e/fixtures.js';
import { installIstioCrds } from '../../e2e/kube-tools.js';
import { FIXTURES, istioTemplates } from '../inject.js';

type Obj = Record<string, unknown>;
export const NS = 'istio-system';

/** The istio-sidecar-injector ConfigMap's `config` key as Istio's chart renders it for these values. */
export function injectorConfig(values: Obj): string {
  const hook = (values.sidecarInjectorWebhook ?? {}) as Obj;
  const defaults = (hook.defaultTemplates as string[] | undefined) ?? [];
  return JSON.stringify({
    defaultTemplates: defaults.length > 0 ? defaults : ['sidecar'],
    policy: ((values.global as Obj).proxy as Obj).autoInject,
    alwaysInjectSelector: hook.alwaysInjectSelector ?? [],
    neverInjectSelector: hook.neverInjectSelector ?? [],
    injectedAnnotations: hook.injectedAnnotations ?? {},
    templates: { ...istioTemplates(), ...((hook.templates as Record<string, string>) ?? {}) },
  });
}

export async function configure(cluster: Cluster): Promise<void> {
  const core = cluster.kc.makeApiClient(CoreV1Api);
  installIstioCrds(cluster.kubeconfig);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  // Both decide native sidecars from the nodes: one node of the API server's release (v1.36: native).
  await setClusterNode(core, cluster);
  const valuesText = readFileSync(join(FIXTURES, 'injector-values.test-default.json'), 'utf8');
  const values = JSON.parse(valuesText) as Obj;
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'istio' }, data: { mesh: readFileSync(join(FIXTURES, 'mesh.test-default.yaml'), 'utf8') } } });
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'istio-sidecar-injector' }, data: { values: valuesText, config: injectorConfig(values) } } });
}
