// Cluster mode keeps only the Secrets that Gateways and DestinationRules name as credentials, and of
// them only the credential keys; a new reference reads the Secret by name, a dropped one forgets it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialSecrets } from '../../src/kube/credential-secrets.js';
import { ObjectStore, type KubeObject } from '../../src/kube/store.js';
import { credentialReferences, credentialSecret } from '../../src/kube/tls-secrets.js';
import { createLogger } from '../../src/telemetry/logger.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret = (namespace: string, name: string, extra: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name, namespace, resourceVersion: '1' },
  data: { 'tls.crt': b64('C'), 'tls.key': b64('K'), ...extra },
});
const gateway = (namespace: string, credentialName: string): KubeObject => ({
  kind: 'Gateway', metadata: { name: 'gw', namespace }, spec: { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, tls: { mode: 'SIMPLE', credentialName } }] },
});

describe('credential references', () => {
  it('reads Gateway servers and DestinationRule policies (top, per port, per subset)', () => {
    const dr = {
      kind: 'DestinationRule', metadata: { name: 'd', namespace: 'apps' },
      spec: {
        trafficPolicy: { tls: { mode: 'MUTUAL', credentialName: 'top' }, portLevelSettings: [{ port: { number: 1 }, tls: { credentialName: 'port' } }] },
        subsets: [{ name: 'v1', trafficPolicy: { tls: { credentialName: 'subset-cacert' }, portLevelSettings: [{ tls: { credentialName: 'sub-port' } }] } }],
      },
    };
    const refs = credentialReferences([gateway('istio-system', 'www'), gateway('x', 'apps/exact')], [dr]);
    assert.deepEqual([...refs.anyNamespace].sort(), ['port', 'sub-port', 'subset', 'subset-cacert', 'top', 'www']);
    assert.deepEqual([...refs.exact], ['apps/exact']);
  });

  it('keeps only the credential keys of a Secret', () => {
    const kept = credentialSecret(secret('a', 'b', { 'other-key': b64('do not keep') }))!;
    assert.deepEqual(Object.keys(kept.data as object).sort(), ['tls.crt', 'tls.key']);
    assert.equal(credentialSecret({ kind: 'Secret', metadata: { name: 'x', namespace: 'a' }, data: { token: b64('t') } }), undefined);
  });
});

describe('credential Secret retention', () => {
  const setup = () => {
    const store = new ObjectStore();
    const cluster = new Map<string, KubeObject>();
    const reads: string[] = [];
    const retained = new CredentialSecrets(store, async (ns, name) => {
      reads.push(`${ns}/${name}`);
      return cluster.get(`${ns}/${name}`);
    }, createLogger('silent'));
    const add = (o: KubeObject): void => {
      cluster.set(`${o.metadata!.namespace}/${o.metadata!.name}`, o);
      retained.upsert(o);
    };
    const list = (items: KubeObject[]): void => {
      for (const o of items) cluster.set(`${o.metadata!.namespace}/${o.metadata!.name}`, o);
      retained.synced(items);
    };
    return { store, retained, reads, add, list };
  };

  it('holds nothing unreferenced, reads a Secret when a reference appears and drops it when the reference goes', async () => {
    const { retained, reads, add, list } = setup();
    list([secret('istio-system', 'www'), secret('kube-system', 'webhook-serving'), secret('istio-system', 'istio-ca-secret')]);
    assert.deepEqual(retained.held(), [], 'no reference yet: no data held');
    add(secret('apps', 'www'));
    assert.deepEqual(retained.held(), []);
    await retained.setReferences(credentialReferences([gateway('istio-system', 'www')], []));
    // Watch events carried the data of unreferenced Secrets, but it was not kept: the Secrets are read by name.
    assert.deepEqual(reads.sort(), ['apps/www', 'istio-system/www']);
    assert.deepEqual(retained.held(), ['apps/www', 'istio-system/www']);
    await retained.setReferences(credentialReferences([], []));
    assert.deepEqual(retained.held(), []);
  });

  it('keeps a referenced Secret current from watch events and forgets a deleted one', async () => {
    const { store, retained, add } = setup();
    await retained.setReferences(credentialReferences([gateway('apps', 'apps/www')], []));
    add(secret('apps', 'www'));
    add(secret('other', 'www'));
    assert.deepEqual(retained.held(), ['apps/www'], 'an exact reference names one namespace');
    add({ ...secret('apps', 'www'), data: { 'tls.crt': b64('C2'), 'tls.key': b64('K2') } });
    assert.equal((store.get('Secret', 'apps', 'www')!.data as Record<string, string>)['tls.crt'], b64('C2'));
    retained.remove(secret('apps', 'www'));
    assert.deepEqual(retained.held(), []);
  });

  it('a re-list keeps exactly the referenced credentials', async () => {
    const { retained } = setup();
    await retained.setReferences(credentialReferences([gateway('apps', 'www')], []));
    retained.synced([secret('apps', 'www'), secret('apps', 'other'), { kind: 'Secret', metadata: { name: 'www', namespace: 'b' }, data: { foo: b64('x') } }]);
    assert.deepEqual(retained.held(), ['apps/www']);
  });
});
