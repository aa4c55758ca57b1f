// Istio's CustomResourceDefinitions in their permissive form (any spec is stored; meshd's validating
// webhook is what refuses bad config), for every kind meshd validates.
import { ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { VALIDATORS } from '../../src/validation/kinds/index.js';
import { waitFor } from '../helpers/meshd-process.js';

const VERSIONS: Record<string, string[]> = {
  'networking.istio.io': ['v1alpha3', 'v1beta1', 'v1'],
  'security.istio.io': ['v1beta1', 'v1'],
  'telemetry.istio.io': ['v1alpha1', 'v1'],
  'extensions.istio.io': ['v1alpha1'],
};

// client-node's typed serializer spells the extension with underscores (it writes the dashed JSON name).
const ANY_OBJECT = { type: 'object', x_kubernetes_preserve_unknown_fields: true };

const plural = (kind: string): string => (kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`).toLowerCase();

export function istioCrds(): V1CustomResourceDefinition[] {
  return Object.keys(VALIDATORS).map((key) => {
    const [group, kind] = key.split('/') as [string, string];
    const versions = VERSIONS[group]!;
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural(kind)}.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { kind, plural: plural(kind), singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: versions.map((name, i) => ({
          name,
          served: true,
          storage: i === versions.length - 1,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: ANY_OBJECT, status: ANY_OBJECT } } },
        })),
      },
    };
  });
}

export async function installIstioCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of istioCrds()) await api.createCustomResourceDefinition({ body: crd });
  await waitFor('Istio CRDs to be established', async () => {
    const list = await api.listCustomResourceDefinition();
    const established = list.items.filter((c) => c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'));
    return established.length >= istioCrds().length ? true : undefined;
  }, 30_000);
}
