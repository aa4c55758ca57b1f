// The rules behind istio.io/debug/syncz: istiod's debugSyncStatus per watch, and who may ask (StatusGen).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xdsDebugScope } from '../../src/security/debug-auth.js';
import { configStatus } from '../../src/xds/debug-types.js';

describe('syncz config status', () => {
  it('is ERROR after a NACK, NOT_SENT before any response, SYNCED once the last nonce is ACKed, else STALE', () => {
    assert.equal(configStatus({ lastError: '3 bad', nonceSent: 'a', nonceAcked: 'a' }), 'ERROR');
    assert.equal(configStatus({}), 'NOT_SENT');
    assert.equal(configStatus({ nonceSent: 'b', nonceAcked: 'b' }), 'SYNCED');
    assert.equal(configStatus({ nonceSent: 'b', nonceAcked: 'a' }), 'STALE');
    assert.equal(configStatus({ nonceSent: 'b' }), 'STALE');
  });
});

describe('xDS debug scope', () => {
  const rules = { namespaceRules: true, systemNamespace: () => 'istio-system', allowedNamespaces: new Set(['ops']) };
  const id = (namespace: string) => ({ trustDomain: 'cluster.local', namespace, serviceAccount: 'default' });
  it('refuses a stream without a verified identity while the namespace rules are on', () => {
    assert.deepEqual(xdsDebugScope(undefined, rules), { status: 401 });
  });
  it('gives the system and allowed namespaces everything, any other its own namespace', () => {
    assert.deepEqual(xdsDebugScope(id('istio-system'), rules), { all: true });
    assert.deepEqual(xdsDebugScope(id('ops'), rules), { all: true });
    assert.deepEqual(xdsDebugScope(id('shop'), rules), { all: false, namespace: 'shop' });
  });
  it('answers anyone, unauthenticated included, with ENABLE_DEBUG_ENDPOINT_AUTH=false', () => {
    assert.deepEqual(xdsDebugScope(undefined, { ...rules, namespaceRules: false }), { all: true });
  });
});
