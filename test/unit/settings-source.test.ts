import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { injectorConfigFromYaml } from '../../src/config/injector.js';
import { meshConfigFromYaml, proxyConfigToJSON } from '../../src/config/mesh.js';
import { SettingsSource } from '../../src/inject/settings-source.js';
import { ObjectStore } from '../../src/kube/store.js';

const configMap = (name: string, data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'istio-system' }, data });

function source(store: ObjectStore, errors: string[] = [], nativeSidecars: 'auto' | 'true' | 'false' = 'auto', revision = 'default') {
  return new SettingsSource({ namespace: 'istio-system', revision, nativeSidecars, compliancePolicy: '', openshift: false, files: {}, store, onError: (_w, e) => errors.push(e.message) });
}

describe('injector config in Istio format', () => {
  it('reads policy, selectors, annotations, templates, defaults and aliases', () => {
    const c = injectorConfigFromYaml(
      [
        'policy: disabled',
        'defaultTemplates: [sidecar, extra]',
        'alwaysInjectSelector: [{matchLabels: {a: b}}]',
        'injectedAnnotations: {"x/y": "z"}',
        'aliases: {both: [sidecar, extra]}',
        'template: "{{ Template_Version_And_Istio_Version_Mismatched_Check_Installation }}"',
        'templates:',
        '  sidecar: |',
        '    spec: {}',
        '  extra: "metadata: {}"',
      ].join('\n'),
    );
    assert.equal(c.policy, 'disabled');
    assert.deepEqual(c.defaultTemplates, ['sidecar', 'extra']);
    assert.deepEqual(c.alwaysInjectSelector, [{ matchLabels: { a: 'b' } }]);
    assert.deepEqual(c.injectedAnnotations, { 'x/y': 'z' });
    assert.deepEqual(c.aliases, { both: ['sidecar', 'extra'] });
    // The config's templates win; the built-ins fill in the names it lacks.
    assert.deepEqual(Object.keys(c.templates).sort(), ['extra', 'gateway', 'grpc-agent', 'grpc-simple', 'sidecar']);
    assert.equal(c.templates.sidecar, 'spec: {}\n');
    assert.match(injectorConfigFromYaml('policy: enabled').templates.sidecar!, /istio-proxy/);
  });
  it('rejects malformed config', () => {
    assert.throws(() => injectorConfigFromYaml('templates: [a]'), /templates must be a map|templates\.0 must be a string/);
    assert.throws(() => injectorConfigFromYaml('defaultTemplates: sidecar'), /defaultTemplates must be a list of strings/);
  });
});

describe('mesh config', () => {
  it('overlays Istio defaults and keeps PROXY_CONFIG minimal', () => {
    const mesh = meshConfigFromYaml('defaultConfig:\n  drainDuration: 10s\n  proxyMetadata: {B: "2", A: "1"}\ntrustDomain: corp\n');
    assert.equal(mesh.trustDomain, 'corp');
    assert.equal(mesh.proxyListenPort, 15001);
    assert.equal(proxyConfigToJSON(mesh.defaultConfig!), '{"drainDuration":"10s","proxyMetadata":{"A":"1","B":"2"}}');
    assert.equal(proxyConfigToJSON(meshConfigFromYaml('').defaultConfig!), '{}');
  });
});

describe('settings source', () => {
  it('uses the ConfigMaps for its revision and reloads when they change', () => {
    const store = new ObjectStore();
    store.upsert(configMap('istio-sidecar-injector', { values: '{"global": {"hub": "h", "tag": "t"}}' }));
    const s = source(store);
    assert.equal((s.current.values.global as any).hub, 'h');
    assert.equal((s.current.values.global as any).proxy.image, 'proxyv2', 'defaults fill what the values leave out');
    store.upsert(configMap('istio-sidecar-injector', { values: '{"global": {"hub": "h2"}}' }));
    assert.equal((s.current.values.global as any).hub, 'h2');
    const canary = source(store, [], 'auto', 'canary');
    assert.equal((canary.current.values.global as any).hub, 'docker.io/istio', 'revision canary reads istio-sidecar-injector-canary');
  });
  it('keeps the last good settings when a ConfigMap turns invalid', () => {
    const store = new ObjectStore();
    const errors: string[] = [];
    store.upsert(configMap('istio', { mesh: 'trustDomain: good' }));
    const s = source(store, errors);
    store.upsert(configMap('istio', { mesh: 'trustDomain: [unclosed' }));
    assert.equal(s.current.mesh.trustDomain, 'good');
    assert.equal(errors.length, 1);
  });
  it('freezes settings so templates cannot change them', () => {
    const s = source(new ObjectStore());
    assert.throws(() => ((s.current.values.global as any).hub = 'x'));
  });
  it('decides native sidecars from the pod node, else from every node', () => {
    const store = new ObjectStore();
    const node = (name: string, v: string) => store.upsert({ kind: 'Node', metadata: { name }, status: { nodeInfo: { kubeletVersion: v } } });
    const s = source(store);
    assert.equal(s.nativeSidecarsFor({}), true, 'no nodes known');
    node('a', 'v1.33.0');
    node('b', 'v1.29.9-gke.1');
    assert.equal(s.nativeSidecarsFor({}), false);
    assert.equal(s.nativeSidecarsFor({ spec: { nodeName: 'a' } }), true);
    assert.equal(s.nativeSidecarsFor({ spec: { nodeName: 'missing' } }), false);
    assert.equal(source(store, [], 'true').nativeSidecarsFor({}), true);
    assert.equal(s.settingsFor({}, 'shop', {}).nativeSidecarMode, 'auto', 'offline callers decide from the mode');
    const sourceless = (mode: 'auto' | 'true') =>
      new SettingsSource({ namespace: 'istio-system', revision: 'default', nativeSidecars: mode, nodeSource: false, compliancePolicy: '', openshift: false, files: {}, store: new ObjectStore(), onError: () => {} });
    assert.equal(sourceless('auto').nativeSidecarsFor({}), false, 'no Node source: off in auto mode');
    assert.equal(sourceless('true').nativeSidecarsFor({}), true);
  });
});
