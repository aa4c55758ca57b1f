// Workload certificate signing: meshd's signer (its own DER encoder, node:crypto signs and verifies)
// beside forge doing everything, over the same CSRs; prints per-CSR time and the ratio.
// Each signature blocks the event loop for that long, so this is also the stall a CSR causes.
//
// Usage: npm run bench:ca [-- --count 200]
import { parseArgs } from 'node:util';
import * as forgeNs from 'node-forge';
import { createCA } from '../src/ca/self-signed.js';
import { signWorkloadCsr } from '../src/ca/workload.js';
import { makeCsr } from '../test/helpers/csr.js';

const forge = ((forgeNs as unknown as { default?: typeof forgeNs }).default ?? forgeNs) as typeof forgeNs;
const { values } = parseArgs({ options: { count: { type: 'string' } } });
const count = Number(values.count ?? 200);
const ID = 'spiffe://cluster.local/ns/bench/sa/bench';

const root = await createCA('bench root');
const ca = { signer: root, chainPem: root.certPem, rootsPem: root.certPem };
const csrs = Array.from({ length: count }, () => makeCsr([ID]).csrPem);

function forgeOnly(csrPem: string): string {
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  csr.verify();
  const cert = forge.pki.createCertificate();
  cert.publicKey = csr.publicKey!;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 3600_000);
  cert.setIssuer(forge.pki.certificateFromPem(root.certPem).subject.attributes);
  cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 6, value: ID }] }]);
  cert.sign(forge.pki.privateKeyFromPem(root.keyPem) as forgeNs.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const time = (fn: (csr: string) => unknown): number => {
  const start = performance.now();
  for (const csr of csrs) fn(csr);
  return (performance.now() - start) / count;
};
time((c) => signWorkloadCsr(ca, c, [ID], 3600)); // warm-up
const meshd = time((c) => signWorkloadCsr(ca, c, [ID], 3600));
const forgeMs = time(forgeOnly);
console.log(`${count} CSRs: meshd ${meshd.toFixed(2)} ms each, forge alone ${forgeMs.toFixed(2)} ms each (ratio ${(meshd / forgeMs).toFixed(2)})`);
