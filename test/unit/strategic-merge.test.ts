import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { strategicMergePod } from '../../src/inject/strategic-merge.js';

const names = (l: unknown): string[] => (l as Array<{ name: string }>).map((x) => x.name);

describe('strategic merge patch for pods', () => {
  it('merges containers by name and keeps fields the patch does not name', () => {
    const pod = { spec: { containers: [{ name: 'app', image: 'a', ports: [{ containerPort: 80 }] }] } };
    const out = strategicMergePod(pod, { spec: { containers: [{ name: 'app', env: [{ name: 'X', value: '1' }] }] } }) as any;
    assert.deepEqual(out.spec.containers, [{ name: 'app', image: 'a', ports: [{ containerPort: 80 }], env: [{ name: 'X', value: '1' }] }]);
  });
  it('puts new patch items before later server-only items, in patch order', () => {
    const pod = { spec: { volumes: [{ name: 'user' }] } };
    const out = strategicMergePod(pod, { spec: { volumes: [{ name: 'a' }, { name: 'b' }] } }) as any;
    assert.deepEqual(names(out.spec.volumes), ['a', 'b', 'user']);
    const secrets = strategicMergePod({ spec: { imagePullSecrets: [{ name: 'foo' }] } }, { spec: { imagePullSecrets: [{ name: 'bar' }] } }) as any;
    assert.deepEqual(names(secrets.spec.imagePullSecrets), ['bar', 'foo']);
  });
  it('keeps the original relative order of items present on both sides', () => {
    const pod = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
    const out = strategicMergePod(pod, { spec: { containers: [{ name: 'c', x: 1 }, { name: 'new' }] } }) as any;
    assert.deepEqual(names(out.spec.containers), ['a', 'b', 'c', 'new']);
  });
  it('replaces lists without a merge strategy and merges nested maps', () => {
    const pod = { spec: { containers: [{ name: 'a', args: ['1', '2'], securityContext: { runAsUser: 1, capabilities: { add: ['X'] } } }] } };
    const out = strategicMergePod(pod, { spec: { containers: [{ name: 'a', args: ['3'], securityContext: { capabilities: { add: ['Y'] } } }] } }) as any;
    assert.deepEqual(out.spec.containers[0].args, ['3']);
    assert.deepEqual(out.spec.containers[0].securityContext, { runAsUser: 1, capabilities: { add: ['Y'] } });
  });
  it('deletes keys patched to null and drops nulls from new values', () => {
    const pod = { metadata: { labels: { a: '1', b: '2' } }, spec: {} };
    const out = strategicMergePod(pod, { metadata: { labels: { a: null } }, spec: { volumes: [{ name: 'v', emptyDir: null }] } }) as any;
    assert.deepEqual(out.metadata.labels, { b: '2' });
    assert.deepEqual(out.spec.volumes, [{ name: 'v' }]);
  });
  it('honours $patch: replace and $patch: delete directives', () => {
    const pod = { spec: { containers: [{ name: 'a', securityContext: { runAsUser: 1, privileged: true } }, { name: 'b' }] } };
    const out = strategicMergePod(pod, { spec: { containers: [{ name: 'a', securityContext: { $patch: 'replace', runAsUser: 2 } }, { name: 'b', $patch: 'delete' }] } }) as any;
    assert.deepEqual(out.spec.containers, [{ name: 'a', securityContext: { runAsUser: 2 } }]);
    const replaced = strategicMergePod({ spec: { volumes: [{ name: 'x' }] } }, { spec: { volumes: [{ $patch: 'replace' }, { name: 'y' }] } }) as any;
    assert.deepEqual(names(replaced.spec.volumes), ['y']);
  });
  it('merges env by name and volumeMounts by mountPath', () => {
    const pod = { spec: { containers: [{ name: 'a', env: [{ name: 'A', value: '1' }], volumeMounts: [{ name: 'v', mountPath: '/x' }] }] } };
    const out = strategicMergePod(pod, { spec: { containers: [{ name: 'a', env: [{ name: 'A', value: '2' }, { name: 'B', value: '3' }], volumeMounts: [{ name: 'w', mountPath: '/x' }] }] } }) as any;
    assert.deepEqual(out.spec.containers[0].env, [{ name: 'A', value: '2' }, { name: 'B', value: '3' }]);
    assert.deepEqual(out.spec.containers[0].volumeMounts, [{ name: 'w', mountPath: '/x' }]);
  });
  it('rejects list items without their merge key and unknown directives', () => {
    assert.throws(() => strategicMergePod({ spec: { containers: [{ name: 'a' }] } }, { spec: { containers: [{ image: 'x' }] } }), /merge key: name/);
    assert.throws(() => strategicMergePod({ spec: {} }, { spec: { $patch: 'explode' } }), /unknown patch type/);
  });
  it('does not modify its inputs or let __proto__ keys through', () => {
    const pod = { spec: { containers: [{ name: 'a' }] } };
    const before = structuredClone(pod);
    const patch = JSON.parse('{"spec":{"__proto__":{"polluted":true},"containers":[{"name":"a","x":1}]}}');
    const out = strategicMergePod(pod, patch) as any;
    assert.deepEqual(pod, before);
    assert.equal(({} as any).polluted, undefined);
    assert.equal(out.spec.polluted, undefined);
    const fresh = strategicMergePod({}, JSON.parse('{"metadata":{"__proto__":{"polluted":true},"name":"n"}}')) as any;
    assert.equal(fresh.metadata.polluted, undefined);
    assert.equal(fresh.metadata.name, 'n');
  });
});
