// CSRs like istio-agent sends: an RSA 2048 key and the workload's SPIFFE ID as a URI SAN.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as forgeNs from 'node-forge';
import { scratchDir } from './scratch.js';

const forge = ((forgeNs as unknown as { default?: typeof forgeNs }).default ?? forgeNs) as typeof forgeNs;

export function makeCsr(sans: string[] = [], subject: Array<{ name: string; value: string }> = [{ name: 'organizationName', value: 'cluster.local' }]): { csrPem: string; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = forge.pki.privateKeyFromPem(privateKey) as forgeNs.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject(subject);
  if (sans.length) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: sans.map((value) => ({ type: 6, value })) }] }]);
  csr.sign(key, forge.md.sha256.create());
  return { csrPem: forge.pki.certificationRequestToPem(csr), keyPem: privateKey };
}

/**
 * A CSR made by OpenSSL, independent of meshd's and forge's encoders: `key` is an openssl -newkey
 * argument (`rsa:1024`, `ec`) with `curve` for EC keys, and `subject` in openssl's /K=V form.
 */
export function opensslCsr(opts: { key: string; curve?: string; sans?: string[]; subject?: string }): { csrPem: string; keyPem: string } {
  const dir = scratchDir('meshd-csr-');
  try {
    const args = ['req', '-new', '-nodes', '-newkey', opts.key, '-subj', opts.subject ?? '/O=cluster.local', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'csr.pem')];
    if (opts.curve) args.push('-pkeyopt', `ec_paramgen_curve:${opts.curve}`);
    if (opts.sans?.length) args.push('-addext', `subjectAltName=${opts.sans.map((s) => `URI:${s}`).join(',')}`);
    execFileSync('openssl', args, { stdio: 'pipe' });
    return { csrPem: readFileSync(join(dir, 'csr.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
