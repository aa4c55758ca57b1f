// The settings both control planes share, as Istio's chart puts them in the cluster: the `istio` mesh
// ConfigMap, the `istio-sidecar-injector` ConfigMap (values, and as `config` Istio's own templates), one
// Node of the API server's release, and Istio's CRDs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Cluster } from '../../e2e/cluster.js';
import { setClusterNode } from '../../e2e/fixtures.js';
import { installIstioCrds } from '../../e2e/kube-tools.js';
import { FIXTURES, istioTemplates } from '../inject.js';

type Obj = Record<string, unknown>;
export const NS = 'istio-system';

/** The istio-sidecar-injector ConfigMap's `config` key as Istio's chart renders it for these values. */
function injectorConfig(values: Obj): string {
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


/**
 * The ProxyConfig istio-agent sends as PROXY_CONFIG: Istio's defaults (mesh.DefaultProxyConfig) under the
 * mesh config's defaultConfig, which is what the injected pod's PROXY_CONFIG env carries.
 */
export function meshDefaultProxyConfig(): Obj {
  const mesh = parseYaml(readFileSync(join(FIXTURES, 'mesh.test-default.yaml'), 'utf8')) as Obj;
  return {
    configPath: './etc/istio/proxy',
    binaryPath: '/usr/local/bin/envoy',
    serviceCluster: 'istio-proxy',
    drainDuration: '45s',
    terminationDrainDuration: '5s',
    discoveryAddress: 'istiod.istio-system.svc:15012',
    proxyAdminPort: 15000,
    controlPlaneAuthPolicy: 'MUTUAL_TLS',
    statNameLength: 189,
    statusPort: 15020,
    ...((mesh.defaultConfig ?? {}) as Obj),
  };
}
