import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { injectionSkipReason } from '../../src/inject/policy.js';
import type { InjectorConfig, Pod } from '../../src/types.js';

const config = (c: Partial<InjectorConfig> = {}): InjectorConfig => ({
  policy: 'enabled', alwaysInjectSelector: [], neverInjectSelector: [], injectedAnnotations: {}, templates: {}, defaultTemplates: ['sidecar'], aliases: {}, ...c,
});
const pod = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}, extra: Partial<Pod> = {}): Pod => ({
  metadata: { namespace: 'default', labels, annotations }, spec: { containers: [{ name: 'a' }] }, ...extra,
});

describe('injection policy', () => {
  it('injects by default when the policy is enabled', () => assert.equal(injectionSkipReason(config(), pod()), null));
  it('never injects hostNetwork pods or system namespaces', () => {
    assert.equal(injectionSkipReason(config(), { ...pod(), spec: { hostNetwork: true } }), 'hostNetwork');
    assert.equal(injectionSkipReason(config(), { metadata: { namespace: 'kube-system' }, spec: {} }), 'ignoredNamespace');
  });
  it('honours the sidecar.istio.io/inject label over the annotation', () => {
    assert.equal(injectionSkipReason(config(), pod({}, { 'sidecar.istio.io/inject': 'false' })), 'policy');
    assert.equal(injectionSkipReason(config(), pod({ 'sidecar.istio.io/inject': 'true' }, { 'sidecar.istio.io/inject': 'false' })), null);
    assert.equal(injectionSkipReason(config({ policy: 'disabled' }), pod({ 'sidecar.istio.io/inject': 'true' })), null);
    assert.equal(injectionSkipReason(config({ policy: 'disabled' }), pod()), 'policy');
  });
  it('falls back to the policy on a value other than true/false, with a warning', () => {
    const warnings: string[] = [];
    assert.equal(injectionSkipReason(config(), pod({ 'sidecar.istio.io/inject': 'yes' }), (w) => warnings.push(w)), null);
    assert.match(warnings[0]!, /only "true" and "false"/);
  });
  it('applies neverInjectSelector before alwaysInjectSelector, and only without an explicit choice', () => {
    const c = config({ policy: 'disabled', neverInjectSelector: [{ matchLabels: { tier: 'db' } }], alwaysInjectSelector: [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }] });
    assert.equal(injectionSkipReason(c, pod({ tier: 'db' })), 'policy');
    assert.equal(injectionSkipReason(c, pod({ tier: 'web' })), null);
    assert.equal(injectionSkipReason(c, pod({ tier: 'db', 'sidecar.istio.io/inject': 'true' })), null);
  });
  it('treats an unknown policy as off', () => assert.equal(injectionSkipReason(config({ policy: 'sometimes' }), pod()), 'policy'));
});
