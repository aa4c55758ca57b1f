// The pure parts of workload authentication: the bearer header, service-account usernames, token kinds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthError, bearerToken, callerFromUsername, isUnboundToken } from '../../src/ca/token-auth.js';

const jwt = (claims: object): string => ['{"alg":"RS256"}', JSON.stringify(claims), 'sig'].map((p, i) => (i < 2 ? Buffer.from(p).toString('base64url') : p)).join('.');

describe('token authentication helpers', () => {
  it('reads a bearer token from the authorization metadata', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bearer   abc '), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });

  it('turns a service-account username into its SPIFFE identity in the trust domain', () => {
    assert.deepEqual(callerFromUsername('system:serviceaccount:apps:echo', 'example.org'), { namespace: 'apps', serviceAccount: 'echo', identities: ['spiffe://example.org/ns/apps/sa/echo'] });
    for (const bad of ['alice', 'system:serviceaccount:apps', 'system:node:n1:x', 'system:serviceaccount::echo']) assert.throws(() => callerFromUsername(bad, 'cluster.local'), AuthError, bad);
  });

  it('tells legacy unbound tokens from bound ones by their issuer', () => {
    assert.equal(isUnboundToken(jwt({ iss: 'kubernetes/serviceaccount', sub: 'system:serviceaccount:a:b' })), true);
    assert.equal(isUnboundToken(jwt({ iss: 'https://kubernetes.default.svc.cluster.local', aud: ['istio-ca'] })), false);
    assert.equal(isUnboundToken('garbage'), false);
  });
});
