// sidecar.istio.io/userVolume and userVolumeMount, as a JSON map or a JSON array (Istio's
// samples/addons/extras/prometheus-secure-metrics.yaml), with meshd's templates and with templates an
// operator supplies that use Istio's construct (`name: "<key>"` then the item's YAML, so a second name).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { injectPod } from '../../src/inject/inject.js';
import type { Container, InjectionSettings, Pod } from '../../src/types.js';
import { testSettings } from '../helpers/settings.js';

const VOLUME = 'sidecar.istio.io/userVolume';
const MOUNT = 'sidecar.istio.io/userVolumeMount';

/** Istio's way of writing user mounts and volumes (injection-template.yaml), in a minimal operator template. */
const ISTIO_STYLE = `spec:
  containers:
  - name: istio-proxy
    image: proxy
    volumeMounts:
    - name: istio-envoy
      mountPath: /etc/istio/proxy
      {{- if isset .ObjectMeta.Annotations \`${MOUNT}\` }}
      {{ range $index, $value := fromJSON (index .ObjectMeta.Annotations \`${MOUNT}\`) }}
    - name: "{{  $index }}"
      {{ toYaml $value | indent 6 }}
      {{ end }}
      {{- end }}
  volumes:
  - name: istio-envoy
    emptyDir: {}
    {{- if isset .ObjectMeta.Annotations \`${VOLUME}\` }}
    {{range $index, $value := fromJSON (index .ObjectMeta.Annotations \`${VOLUME}\`) }}
  - name: "{{ $index }}"
    {{ toYaml $value | indent 4 }}
    {{ end }}
    {{ end }}
`;

const SHARED_TEMPLATE = join(import.meta.dirname, '..', '..', '..', 'shared', 'istio', 'inject-fixtures', 'template.injection-template.yaml');

function withSidecarTemplate(text: string): InjectionSettings {
  const s = testSettings();
  return { ...s, config: { ...s.config, templates: { ...s.config.templates, sidecar: text } } };
}

const TEMPLATES: Array<[string, () => InjectionSettings]> = [
  ["meshd's templates", () => testSettings()],
  ["an operator template in Istio's style", () => withSidecarTemplate(ISTIO_STYLE)],
];
// Istio's own template, when the shared reference copy is there (it is not part of the project).
if (existsSync(SHARED_TEMPLATE)) TEMPLATES.push(["Istio's template as operator config", () => withSidecarTemplate(readFileSync(SHARED_TEMPLATE, 'utf8'))]);

const pod = (annotations: Record<string, string>): Pod => ({
  metadata: { name: 'prometheus', namespace: 'shop', annotations },
  spec: { containers: [{ name: 'app', image: 'prom/prometheus' }] },
});

const proxyOf = (p: Pod): Container => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === 'istio-proxy')!;
const named = (l: Array<{ name: string }> | undefined, names: string[]) => (l ?? []).filter((x) => names.includes(String(x.name)));

interface Row {
  name: string;
  annotations: Record<string, string>;
  mounts: unknown[];
  volumes: unknown[];
}

const ROWS: Row[] = [
  {
    name: 'array form, as Istio samples write it: each item names itself',
    annotations: {
      [MOUNT]: '[{"name": "istio-certs", "mountPath": "/etc/istio-certs"}]',
      [VOLUME]: '[{"name": "istio-certs", "emptyDir": {"medium": "Memory"}}]',
    },
    mounts: [{ name: 'istio-certs', mountPath: '/etc/istio-certs' }],
    volumes: [{ name: 'istio-certs', emptyDir: { medium: 'Memory' } }],
  },
  {
    name: 'map form: the key names the item',
    annotations: {
      [MOUNT]: '{"user-volume-1":{"mountPath":"/mnt/volume-1","readOnly":true},"user-volume-2":{"mountPath":"/mnt/volume-2"}}',
      [VOLUME]: '{"user-volume-1":{"persistentVolumeClaim":{"claimName":"pvc-claim"}},"user-volume-2":{"configMap":{"name":"cm"}}}',
    },
    mounts: [
      { name: 'user-volume-1', mountPath: '/mnt/volume-1', readOnly: true },
      { name: 'user-volume-2', mountPath: '/mnt/volume-2' },
    ],
    volumes: [
      { name: 'user-volume-1', persistentVolumeClaim: { claimName: 'pvc-claim' } },
      { name: 'user-volume-2', configMap: { name: 'cm' } },
    ],
  },
  {
    name: "map form with a name inside: the item's own name wins over the key (the last key in Istio's YAML)",
    annotations: { [MOUNT]: '{"key":{"name":"certs","mountPath":"/c"}}', [VOLUME]: '{"key":{"name":"certs","emptyDir":{}}}' },
    mounts: [{ name: 'certs', mountPath: '/c' }],
    volumes: [{ name: 'certs', emptyDir: {} }],
  },
  {
    name: 'array form without names: the index is the name, as in istiod',
    annotations: { [MOUNT]: '[{"mountPath":"/a"},{"name":"b","mountPath":"/b"}]', [VOLUME]: '[{"emptyDir":{}},{"name":"b","emptyDir":{}}]' },
    mounts: [{ name: '0', mountPath: '/a' }, { name: 'b', mountPath: '/b' }],
    volumes: [{ name: '0', emptyDir: {} }, { name: 'b', emptyDir: {} }],
  },
];

const userNames = (r: Row): string[] => [...r.mounts, ...r.volumes].map((x) => String((x as { name: string }).name));

describe('user volumes and mounts from annotations', () => {
  for (const [label, settings] of TEMPLATES) {
    describe(label, () => {
      for (const row of ROWS) {
        it(row.name, () => {
          const r = injectPod(pod(row.annotations), 'shop', settings());
          assert.equal(r.kind, 'injected');
          if (r.kind !== 'injected') return;
          const names = userNames(row);
          assert.deepEqual(named(proxyOf(r.pod).volumeMounts as Array<{ name: string }>, names), row.mounts);
          assert.deepEqual(named(r.pod.spec!.volumes as Array<{ name: string }>, names), row.volumes);
          // Every mount names a volume of the pod, or the API server refuses the pod.
          const volumes = new Set(((r.pod.spec!.volumes ?? []) as Array<{ name: string }>).map((v) => v.name));
          for (const m of (proxyOf(r.pod).volumeMounts ?? []) as Array<{ name: string }>) assert.ok(volumes.has(m.name), `mount ${m.name} has no volume`);
        });
      }
      it('injects the same pod for the array form and the equivalent map form', () => {
        const inject = (a: Record<string, string>): Pod => {
          const r = injectPod(pod(a), 'shop', settings());
          assert.equal(r.kind, 'injected');
          const p = r.kind === 'injected' ? r.pod : {};
          for (const k of [MOUNT, VOLUME]) delete p.metadata!.annotations![k];
          return p;
        };
        const asArray = inject({ [MOUNT]: '[{"name":"certs","mountPath":"/c","readOnly":true}]', [VOLUME]: '[{"name":"certs","secret":{"secretName":"s"}}]' });
        const asMap = inject({ [MOUNT]: '{"certs":{"mountPath":"/c","readOnly":true}}', [VOLUME]: '{"certs":{"secret":{"secretName":"s"}}}' });
        assert.deepEqual(asArray, asMap);
      });
      it('refuses an item that is not an object, as istiod does', () => {
        assert.throws(() => injectPod(pod({ [MOUNT]: '["certs"]' }), 'shop', settings()));
      });
    });
  }
});
