// CSRs like istio-agent sends: an RSA 2048 key and the workload's SPIFFE ID as a URI SAN.
import { generateKeyPairSync } from 'node:crypto';
import * as forgeNs from 'node-forge';

const forge = ((forgeNs as unknown as { default?: typeof forgeNs }).default ?? forgeNs) as typeof forgeNs;

export function makeCsr(sans: string[] = []): { csrPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forgeNs.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'organizationName', value: 'cluster.local' }]);
  if (sans.length) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: sans.map((value) => ({ type: 6, value })) }] }]);
  csr.sign(key, forge.md.sha256.create());
  return { csrPem: forge.pki.certificationRequestToPem(csr), keyPem: privateKey };
}
