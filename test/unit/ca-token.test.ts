// The pure parts of workload authentication: the bearer header, service-account usernames, the reading
// of a TokenReview's status, SPIFFE IDs and the SANs of a peer certificate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reviewedServiceAccount, serviceAccountOf } from '../../src/ca/token-auth.js';
import { AuthError, bearerToken, parseSpiffeId, uriSans } from '../../src/security/authenticate.js';

describe('token authentication helpers', () => {
  it('reads a bearer token from the authorization metadata', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
    assert.equal(bearerToken('bearer   abc '), 'abc');
    assert.equal(bearerToken('Basic abc'), undefined);
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(undefined), undefined);
    assert.equal(bearerToken('Istio abc'), undefined, 'gRPC takes Bearer only');
    assert.equal(bearerToken('Istio abc', ['bearer', 'istio']), 'abc', 'istiod takes `Istio <token>` over HTTP');
  });

  it('reads a service-account username', () => {
    assert.deepEqual(serviceAccountOf('system:serviceaccount:apps:echo'), { namespace: 'apps', serviceAccount: 'echo' });
    for (const bad of ['alice', 'system:serviceaccount:apps', 'system:node:n1:x', 'system:serviceaccount::echo']) assert.throws(() => serviceAccountOf(bad), AuthError, bad);
  });

  it('accepts a review only when authenticated as a member of system:serviceaccounts', () => {
    const user = { username: 'system:serviceaccount:apps:echo', groups: ['system:serviceaccounts', 'system:serviceaccounts:apps'] };
    assert.deepEqual(reviewedServiceAccount({ authenticated: true, user }), { namespace: 'apps', serviceAccount: 'echo' });
    assert.throws(() => reviewedServiceAccount({ authenticated: false, user }), /not authenticated/);
    assert.throws(() => reviewedServiceAccount({ authenticated: true, error: 'boom', user }), /boom/);
    assert.throws(() => reviewedServiceAccount({ authenticated: true, user: { ...user, groups: ['system:authenticated'] } }), /not a service account/);
    assert.throws(() => reviewedServiceAccount(undefined), /not authenticated/);
  });

  it('parses SPIFFE IDs and the URI SANs Node prints, quoted ones included', () => {
    assert.deepEqual(parseSpiffeId('spiffe://cluster.local/ns/a/sa/b'), { trustDomain: 'cluster.local', namespace: 'a', serviceAccount: 'b' });
    for (const bad of ['spiffe://td/ns/a', 'spiffe://td/ns/a/sa/b/c', 'https://td/ns/a/sa/b']) assert.equal(parseSpiffeId(bad), undefined, bad);
    assert.deepEqual(uriSans('URI:spiffe://td/ns/a/sa/b, DNS:x.example'), ['spiffe://td/ns/a/sa/b']);
    assert.deepEqual(uriSans('DNS:x, URI:"spiffe://td/ns/a, URI:evil/sa/b", URI:spiffe://td/ns/c/sa/d'), ['spiffe://td/ns/a, URI:evil/sa/b', 'spiffe://td/ns/c/sa/d']);
    assert.deepEqual(uriSans(undefined), []);
  });
});
