// Signing workload CSRs like istiod's CA: identity from the caller, TTL rules, CSR checks, chain shape.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createCA, splitPem, type KeyPairPem } from '../../src/ca/self-signed.js';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaError, CLOCK_SKEW_MS, signWorkloadCsr } from '../../src/ca/workload.js';
import { makeCsr, opensslCsr } from '../helpers/csr.js';
import { scratchDir } from '../helpers/scratch.js';

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
    // istiod: NotBefore two minutes back for clock skew, NotAfter the TTL from now.
    assert.equal(new Date(leaf.validFrom).getTime(), now.getTime() - CLOCK_SKEW_MS);
    assert.equal(new Date(leaf.validTo).getTime(), now.getTime() + 3600_000);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.subject ?? '', '');
    assert.equal(leaf.keyUsage?.sort().join(','), '1.3.6.1.5.5.7.3.1,1.3.6.1.5.5.7.3.2');
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

  it('takes nothing from the CSR subject: a CN becomes the caller’s identity (dual use), the rest is dropped', () => {
    const asked = [{ name: 'commonName', value: 'istiod.istio-system.svc' }, { name: 'organizationName', value: 'system:masters' }];
    const leaf = new X509Certificate(signWorkloadCsr(self, makeCsr([ID], asked).csrPem, [ID], 3600).chain[0]!);
    assert.equal(leaf.subject, `CN=${ID}`);
    const noCn = new X509Certificate(signWorkloadCsr(self, makeCsr([ID], [asked[1]!]).csrPem, [ID], 3600).chain[0]!);
    assert.equal(noCn.subject ?? '', '');
  });

  it('leaves the CN out when the identity is longer than a CN may be (64 characters)', () => {
    const long = `spiffe://cluster.local/ns/${'n'.repeat(40)}/sa/${'s'.repeat(20)}`;
    const csr = makeCsr([long], [{ name: 'commonName', value: 'x' }]).csrPem;
    assert.equal(new X509Certificate(signWorkloadCsr(self, csr, [long], 3600).chain[0]!).subject ?? '', '');
  });

  it('refuses RSA keys under 2048 bits', () => {
    const e = caError(() => signWorkloadCsr(self, opensslCsr({ key: 'rsa:1024', sans: [ID] }).csrPem, [ID], 3600));
    assert.equal(e.type, 'CSR_ERROR');
    assert.match(e.message, /1024 bits is too small/);
  });

  for (const curve of ['P-256', 'P-384']) {
    it(`signs an ECDSA ${curve} CSR (istio-agent's ECC_SIGNATURE_ALGORITHM=ECDSA)`, () => {
      const { csrPem } = opensslCsr({ key: 'ec', curve, sans: [ID] });
      const leaf = new X509Certificate(signWorkloadCsr(self, csrPem, [ID], 3600).chain[0]!);
      assert.equal(leaf.publicKey.asymmetricKeyType, 'ec');
      assert.ok(leaf.verify(new X509Certificate(root.certPem).publicKey));
      assert.equal(leaf.subjectAltName, `URI:${ID}`);
    });
  }

  it('refuses curves other than P-256 and P-384', () => {
    const e = caError(() => signWorkloadCsr(self, opensslCsr({ key: 'ec', curve: 'P-521', sans: [ID] }).csrPem, [ID], 3600));
    assert.equal(e.type, 'CSR_ERROR');
    assert.match(e.message, /secp521r1/);
  });

  it('refuses negative and fractional TTLs', () => {
    for (const ttl of [-1, -3600, 1.5, Number.NaN]) {
      assert.equal(caError(() => signWorkloadCsr(self, makeCsr([ID]).csrPem, [ID], ttl)).type, 'TTL_ERROR', String(ttl));
    }
  });

  it('never outlives the signing certificate, and refuses to sign with an expired one', async () => {
    const shortLived = await createCA('short-lived root', 'cluster.local', 1);
    const ca = { signer: shortLived, chainPem: shortLived.certPem, rootsPem: shortLived.certPem };
    const caEnd = new Date(new X509Certificate(shortLived.certPem).validTo).getTime();
    const leaf = new X509Certificate(signWorkloadCsr(ca, makeCsr([ID]).csrPem, [ID], 7 * 24 * 3600).chain[0]!);
    assert.equal(new Date(leaf.validTo).getTime(), caEnd);
    const e = caError(() => signWorkloadCsr(ca, makeCsr([ID]).csrPem, [ID], 3600, undefined, new Date(caEnd + 1000)));
    assert.equal(e.type, 'CERT_GEN_ERROR');
    assert.match(e.message, /expired/);
  });

  it('issues certificates that OpenSSL verifies for client and server use', () => {
    const dir = scratchDir('meshd-verify-');
    try {
      for (const [name, csr] of [['rsa', makeCsr([ID]).csrPem], ['ec', opensslCsr({ key: 'ec', curve: 'P-256', sans: [ID] }).csrPem]] as const) {
        writeFileSync(join(dir, 'root.pem'), root.certPem);
        writeFileSync(join(dir, `${name}.pem`), signWorkloadCsr(self, csr, [ID], 3600).chain[0]!);
        for (const purpose of ['sslclient', 'sslserver']) {
          const out = execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', join(dir, 'root.pem'), join(dir, `${name}.pem`)], { encoding: 'utf8' });
          assert.match(out, /: OK/, `${name} ${purpose}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
