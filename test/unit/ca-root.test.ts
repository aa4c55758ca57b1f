import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { caRootFromSecret, liveCertificates, rotateSelfSigned, rotationDue, selfSignedSecretData } from '../../src/ca/root.js';
import { certValidity, createCA, createServingCert, serial, splitPem } from '../../src/ca/self-signed.js';

const POLICY = { ttlMs: 3650 * 86400_000, gracePercent: 20 };
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

describe('CA root in Secrets', () => {
  it('reads a plug-in CA with its chain, roots and CRL', async () => {
    const root = await createCA('root');
    const data = { 'ca-cert.pem': b64(root.certPem), 'ca-key.pem': b64(root.keyPem), 'cert-chain.pem': b64(root.certPem), 'root-cert.pem': b64(root.certPem), 'ca-crl.pem': b64('CRL') };
    const ca = caRootFromSecret('cacerts', data, new Date())!;
    assert.equal(ca.source, 'cacerts');
    assert.equal(ca.rootsPem, root.certPem);
    assert.equal(ca.crlPem, 'CRL');
  });

  it('refuses a Secret without a certificate and key, and uses ca-cert.pem when there is no root-cert.pem', async () => {
    const root = await createCA('root');
    assert.equal(caRootFromSecret('cacerts', { 'ca-cert.pem': b64(root.certPem) }, new Date()), undefined);
    assert.equal(caRootFromSecret('cacerts', undefined, new Date()), undefined);
    const ca = caRootFromSecret('istio-ca-secret', { 'ca-cert.pem': b64(root.certPem), 'ca-key.pem': b64(root.keyPem) }, new Date())!;
    assert.equal(ca.rootsPem, root.certPem);
    assert.equal(ca.chainPem, root.certPem);
    assert.equal(ca.crlPem, undefined);
  });

  it('is due for rotation only inside the grace period', async () => {
    const root = await createCA('root', 'cluster.local', 10);
    const { notBefore, notAfter } = certValidity(root.certPem);
    const life = notAfter.getTime() - notBefore.getTime();
    assert.equal(rotationDue(root.certPem, new Date(), POLICY), false);
    assert.equal(rotationDue(root.certPem, new Date(notAfter.getTime() - life * 0.21), POLICY), false);
    assert.equal(rotationDue(root.certPem, new Date(notAfter.getTime() - life * 0.19), POLICY), true);
  });

  it('re-issues a due root from the same key and keeps the old root in the bundle until it expires', async () => {
    const old = await createCA('root', 'cluster.local', 1);
    const current = caRootFromSecret('istio-ca-secret', selfSignedSecretData(old, []), new Date())!;
    const late = new Date(certValidity(old.certPem).notAfter.getTime() - 60_000);
    assert.equal(rotateSelfSigned(current, new Date(), POLICY), undefined);
    const data = rotateSelfSigned(current, late, POLICY)!;
    const next = unb64(data['ca-cert.pem']);
    assert.notEqual(next, old.certPem);
    assert.equal(unb64(data['ca-key.pem']), old.keyPem);
    assert.deepEqual(splitPem(unb64(data['root-cert.pem'])), [next, old.certPem]);
    const newCert = new X509Certificate(next);
    assert.equal(newCert.subject, new X509Certificate(old.certPem).subject);
    // A leaf signed before the rotation still verifies against the new root.
    const leaf = new X509Certificate((await createServingCert(old, ['svc'], [])).certPem);
    assert.ok(leaf.verify(newCert.publicKey));
    assert.ok(leaf.checkIssued(newCert));
    // A plug-in CA is the operator's to rotate.
    assert.equal(rotateSelfSigned({ ...current, source: 'cacerts' }, late, POLICY), undefined);
  });

  it('drops expired and repeated roots from a bundle', async () => {
    const a = await createCA('a', 'o', 1);
    const b = await createCA('b', 'o', 2);
    const bundle = a.certPem + b.certPem + a.certPem;
    assert.deepEqual(liveCertificates(bundle, new Date()), [a.certPem, b.certPem]);
    assert.deepEqual(liveCertificates(bundle, new Date(Date.now() + 1.5 * 86400_000)), [b.certPem]);
    assert.equal(splitPem(bundle).join(''), bundle);
  });
});

describe('certificate serial numbers', () => {
  it('are positive and minimally encoded, as Go requires (a leading zero byte was refused 1 time in 128)', () => {
    for (let i = 0; i < 5000; i++) {
      const first = Number.parseInt(serial().slice(0, 2), 16);
      assert.ok(first > 0 && first < 0x80, `first byte ${first}`);
    }
  });
});
