// Signing workload CSRs like istiod's CA: identity from the caller, TTL rules, CSR checks, chain shape.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createCA, splitPem, type KeyPairPem } from '../../src/ca/self-signed.js';
import { CaError, signWorkloadCsr } from '../../src/ca/workload.js';
import { makeCsr } from '../helpers/csr.js';

const ID = 'spiffe://cluster.local/ns/apps/sa/echo';
let root: KeyPairPem;
let self: { signer: KeyPairPem; chainPem: string; rootsPem: string };

before(async () => {
  root = await createCA('test root');
  self = { signer: root, chainPem: root.certPem, rootsPem: root.certPem };
});

const caError = (fn: () => unknown): CaError => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CaError, String(e));
    return e;
  }
  assert.fail('expected a CaError');
};

describe('workload certificates', () => {
  it('signs for the caller’s identity, with the requested TTL, and returns leaf then root', () => {
    const { csrPem } = makeCsr([ID]);
    const now = new Date('2026-01-01T00:00:00Z');
    const out = signWorkloadCsr(self, csrPem, [ID], 3600, undefined, now);
    assert.equal(out.chain.length, 2);
    assert.ok(out.chain.every((c) => c.endsWith('-----END CERTIFICATE-----\n')));
    const leaf = new X509Certificate(out.chain[0]!);
    const issuer = new X509Certificate(out.chain[1]!);
    assert.ok(leaf.verify(issuer.publicKey));
    assert.ok(leaf.checkIssued(issuer));
    assert.equal(leaf.subjectAltName, `URI:${ID}`);
    assert.equal(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime(), 3600_000);
    assert.equal(leaf.ca, false);
  });

  it('puts the caller’s identity in the SAN even when the CSR names none, and applies the default TTL', () => {
    const out = signWorkloadCsr(self, makeCsr().csrPem, [ID], 0);
    const leaf = new X509Certificate(out.chain[0]!);
    assert.equal(leaf.subjectAltName, `URI:${ID}`);
    assert.equal(out.ttlSeconds, 24 * 3600);
  });

  it('refuses a CSR that asks for another identity', () => {
    const e = caError(() => signWorkloadCsr(self, makeCsr(['spiffe://cluster.local/ns/apps/sa/admin']).csrPem, [ID], 3600));
    assert.equal(e.type, 'CSR_ERROR');
    assert.match(e.message, /sa\/admin/);
  });

  it('refuses a TTL above the maximum with istiod’s message', () => {
    const e = caError(() => signWorkloadCsr(self, makeCsr([ID]).csrPem, [ID], 3 * 3600, { defaultTtlSeconds: 3600, maxTtlSeconds: 2 * 3600 }));
    assert.equal(e.type, 'TTL_ERROR');
    assert.equal(e.message, 'requested TTL 3h0m0s is greater than the max allowed TTL 2h0m0s');
  });

  it('refuses garbage and a CSR whose signature does not verify', () => {
    assert.equal(caError(() => signWorkloadCsr(self, 'not a csr', [ID], 3600)).type, 'CSR_ERROR');
    const { csrPem } = makeCsr([ID]);
    const body = csrPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const der = Buffer.from(body, 'base64');
    der[der.length - 5] = der[der.length - 5]! ^ 0xff; // flip bits in the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    const e = caError(() => signWorkloadCsr(self, tampered, [ID], 3600));
    assert.equal(e.type, 'CSR_ERROR');
  });

  it('returns leaf, then the chain without the roots, then the roots, for a plug-in CA', async () => {
    // The signer stands in for an intermediate: what matters here is the order of the returned chain.
    const inter = await createCA('plug-in intermediate');
    const ca = { signer: inter, chainPem: inter.certPem + root.certPem, rootsPem: root.certPem };
    const out = signWorkloadCsr(ca, makeCsr([ID]).csrPem, [ID], 600);
    const lf = (c: string): string => c.replace(/\r\n/g, '\n');
    assert.deepEqual(out.chain.slice(1), [...splitPem(inter.certPem), ...splitPem(root.certPem)].map(lf));
    assert.ok(new X509Certificate(out.chain[0]!).verify(new X509Certificate(inter.certPem).publicKey));
  });
});
