// Native sidecars decided as istiod decides them: ENABLE_NATIVE_SIDECARS (pilot/pkg/features), the Nodes'
// kubelet versions as hashicorp/go-version reads them (webhook.go DetectNativeSidecar), and offline
// rendering without a Node lister (`istioctl kube-inject`, inject.go IntoObject).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kubeInjectObjects } from '../../src/inject/kube-inject.js';
import { detectNativeSidecars, kubeletMinor, nativeSidecarMode, type NodeLister } from '../../src/inject/native-sidecars.js';
import { SettingsSource } from '../../src/inject/settings-source.js';
import { ObjectStore } from '../../src/kube/store.js';
import type { NativeSidecarMode, Pod } from '../../src/types.js';
import { testSettings } from '../helpers/settings.js';

describe('ENABLE_NATIVE_SIDECARS', () => {
  const rows: Array<{ name: string; input: string | undefined; want: NativeSidecarMode; warns: boolean }> = [
    { name: 'unset is auto', input: undefined, want: 'auto', warns: false },
    { name: 'auto', input: 'auto', want: 'auto', warns: false },
    { name: 'true', input: 'true', want: 'true', warns: false },
    { name: 'false', input: 'false', want: 'false', warns: false },
    { name: 'upper case is unknown: false', input: 'TRUE', want: 'false', warns: true },
    { name: 'set but empty is unknown: false', input: '', want: 'false', warns: true },
    { name: 'padded is unknown: false', input: ' true', want: 'false', warns: true },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const got = nativeSidecarMode(r.input);
      assert.equal(got.mode, r.want);
      assert.equal(got.warning !== undefined, r.warns, got.warning);
    });
  }
});

describe('kubelet minor version, as go-version parses it', () => {
  const rows: Array<{ input: unknown; want: number | undefined }> = [
    { input: 'v1.33.2', want: 33 },
    { input: '1.34', want: 34 },
    { input: 'v1.34.0-eks-1', want: 34 },
    { input: 'v1.30.1+k3s1', want: 30 },
    { input: 'v1.33.0-rc.1', want: 33 },
    { input: '1.34abc', want: 34 },
    { input: 'v1.033.0', want: 33 },
    { input: 'v1', want: 0 },
    { input: 'v2.0.0', want: 0 },
    { input: 'v1.33.x', want: undefined },
    { input: 'V1.33.0', want: undefined },
    { input: ' v1.33.0', want: undefined },
    { input: 'v1.99999999999999999999', want: undefined },
    { input: 'garbage', want: undefined },
    { input: '', want: undefined },
    { input: undefined, want: undefined },
  ];
  for (const r of rows) it(String(JSON.stringify(r.input)), () => assert.equal(kubeletMinor(r.input), r.want));
});

const lister = (nodes: Record<string, string | null>): NodeLister => {
  const objs = Object.entries(nodes).map(([name, v]) => ({ metadata: { name }, ...(v === null ? {} : { status: { nodeInfo: { kubeletVersion: v } } }) }));
  return { get: (name) => objs.find((o) => o.metadata.name === name), list: () => objs };
};

describe('native sidecar detection', () => {
  const rows: Array<{ name: string; mode: NativeSidecarMode; nodes?: Record<string, string | null>; podNode?: string; want: boolean }> = [
    { name: 'true: on without any Node lister', mode: 'true', want: true },
    { name: 'true: on with old nodes', mode: 'true', nodes: { a: 'v1.28.0' }, want: true },
    { name: 'false: off with new nodes', mode: 'false', nodes: { a: 'v1.34.0' }, want: false },
    { name: 'auto without a Node lister (offline): off', mode: 'auto', want: false },
    { name: 'auto with a lister and no Nodes (webhook): on, as in istiod', mode: 'auto', nodes: {}, want: true },
    { name: 'auto, every node 1.33 or later: on', mode: 'auto', nodes: { a: 'v1.33.0', b: 'v1.36.3' }, want: true },
    { name: 'auto, mixed nodes: off', mode: 'auto', nodes: { a: 'v1.34.0', b: 'v1.32.9' }, want: false },
    { name: 'auto, mixed nodes, pod on a new node: on', mode: 'auto', nodes: { a: 'v1.34.0', b: 'v1.32.9' }, podNode: 'a', want: true },
    { name: 'auto, new nodes, pod on an old one: off', mode: 'auto', nodes: { a: 'v1.34.0', b: 'v1.32.9' }, podNode: 'b', want: false },
    { name: 'auto, pod on an unknown node: every node decides', mode: 'auto', nodes: { a: 'v1.34.0' }, podNode: 'gone', want: true },
    { name: 'auto, pod on an unknown node, mixed nodes: off', mode: 'auto', nodes: { a: 'v1.34.0', b: 'v1.20.0' }, podNode: 'gone', want: false },
    { name: 'auto, a node with an unreadable version: off', mode: 'auto', nodes: { a: 'v1.34.0', b: 'v1.34.x' }, want: false },
    { name: 'auto, a node without status: off', mode: 'auto', nodes: { a: 'v1.34.0', b: null }, want: false },
    { name: 'auto, only the minor counts: v2.0 is off', mode: 'auto', nodes: { a: 'v2.0.0' }, want: false },
  ];
  for (const r of rows) {
    it(r.name, () => assert.equal(detectNativeSidecars(r.mode, r.nodes ? lister(r.nodes) : undefined, r.podNode), r.want));
  }
});

describe('offline injection (meshd inject) has no Node lister, like istioctl kube-inject', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  };
  const placement = (out: unknown): 'native' | 'classic' => {
    const spec = (out as { spec: { template: { spec: Pod['spec'] } } }).spec.template.spec!;
    const init = spec.initContainers?.find((c) => c.name === 'istio-proxy');
    if (init) return init.restartPolicy === 'Always' ? 'native' : 'classic';
    assert.ok(spec.containers?.some((c) => c.name === 'istio-proxy'));
    return 'classic';
  };
  const rows: Array<{ name: string; mode: NativeSidecarMode; nodes: string[]; want: 'native' | 'classic' }> = [
    { name: 'auto, no Nodes known: classic', mode: 'auto', nodes: [], want: 'classic' },
    { name: 'auto, every Node new enough (a local directory): still classic', mode: 'auto', nodes: ['v1.34.1'], want: 'classic' },
    { name: 'true: native', mode: 'true', nodes: [], want: 'native' },
    { name: 'false: classic', mode: 'false', nodes: ['v1.34.1'], want: 'classic' },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const store = new ObjectStore();
      r.nodes.forEach((v, i) => store.upsert({ kind: 'Node', metadata: { name: `n${i}` }, status: { nodeInfo: { kubeletVersion: v } } }));
      const source = new SettingsSource({ namespace: 'istio-system', revision: 'default', nativeSidecars: r.mode, compliancePolicy: '', openshift: false, files: {}, store, onError: (_w, e) => assert.fail(e) });
      source.close();
      const { objects } = kubeInjectObjects([deployment], (pod, ns) => source.settingsFor(pod, ns, {}));
      assert.equal(placement(objects[0]), r.want);
    });
  }
  it('keeps the decision of a caller that hands settings without a mode', () => {
    assert.equal(placement(kubeInjectObjects([deployment], () => testSettings({ native: true })).objects[0]), 'native');
    assert.equal(placement(kubeInjectObjects([deployment], () => testSettings({ native: false })).objects[0]), 'classic');
  });
});
