// Workload certificates from CSRs, as istiod's CA signs them: the SAN is the caller's SPIFFE identity
// (not what the CSR asks for), the TTL is the requested one or the default, and a TTL above the maximum
// is refused (Istio refuses rather than shortening it). Pure apart from the clock and the serial.
import { constants, createPrivateKey, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import * as forgeNs from 'node-forge';
import type { CaRoot } from './root.js';
import { splitPem } from './self-signed.js';

const forge = ((forgeNs as unknown as { default?: typeof forgeNs }).default ?? forgeNs) as typeof forgeNs;

/** Istio's CA error kinds; each maps to a gRPC status like istiod's caerror.HTTPErrorCode. */
export type CaErrorType = 'CSR_ERROR' | 'TTL_ERROR' | 'CERT_GEN_ERROR' | 'CA_NOT_READY';

export class CaError extends Error {
  constructor(readonly type: CaErrorType, message: string) {
    super(message);
  }
}

export interface WorkloadCertPolicy {
  /** DEFAULT_WORKLOAD_CERT_TTL (24h) when the request asks for none. */
  defaultTtlSeconds: number;
  /** MAX_WORKLOAD_CERT_TTL (90 days). */
  maxTtlSeconds: number;
}

export const DEFAULT_WORKLOAD_POLICY: WorkloadCertPolicy = { defaultTtlSeconds: 24 * 3600, maxTtlSeconds: 90 * 24 * 3600 };

/** Go's time.Duration text for whole seconds (3h0m0s), as istiod words its TTL error. */
function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

/** URI SANs a CSR asks for (its extensionRequest), in order. */
export function csrUriSans(csr: forgeNs.pki.CertificateSigningRequest): string[] {
  const ext = (csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: Array<{ name: string; altNames?: Array<{ type: number; value: string }> }> } | null)?.extensions ?? [];
  return ext.filter((e) => e.name === 'subjectAltName').flatMap((e) => (e.altNames ?? []).filter((a) => a.type === 6).map((a) => a.value));
}

function parseCsr(csrPem: string): forgeNs.pki.CertificateSigningRequest {
  let csr: forgeNs.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
  } catch (e) {
    // forge reads RSA keys only; istio-agent's default keys are RSA 2048.
    throw new CaError('CSR_ERROR', `failed to parse the CSR: ${(e as Error).message}`);
  }
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    // forge throws on a malformed signature block; that is a bad signature too.
  }
  if (!verified) throw new CaError('CSR_ERROR', 'the CSR signature does not verify');
  return csr;
}

/** DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017, 9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const keys = new Map<string, KeyObject>();

/**
 * forge's certificate signing calls key.sign(md); this key does the RSA operation with node:crypto, which
 * is about 20 times faster than forge's JavaScript and keeps the event loop free.
 */
function nativeSigner(keyPem: string): { sign(md: forgeNs.md.MessageDigest): string } {
  let key = keys.get(keyPem);
  if (!key) {
    key = createPrivateKey(keyPem);
    keys.clear(); // only the current CA key is worth keeping
    keys.set(keyPem, key);
  }
  const k = key;
  return {
    sign: (md) => privateEncrypt({ key: k, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), 'binary')])).toString('binary'),
  };
}

/** What signs workload certificates: the CA root in force (plug-in or self-signed), or local mode's CA. */
export type SigningCa = Pick<CaRoot, 'signer' | 'chainPem' | 'rootsPem'>;

export interface SignedChain {
  /** Leaf, then the intermediates, then the roots, one certificate each with a trailing newline (istiod's shape). */
  chain: string[];
  ttlSeconds: number;
}

/**
 * Signs `csrPem` for `identities` (the authenticated caller's SPIFFE IDs). The CSR's own URI SANs, if
 * any, must be among them: a workload may not ask for someone else's identity.
 */
export function signWorkloadCsr(
  ca: SigningCa,
  csrPem: string,
  identities: string[],
  requestedTtlSeconds: number,
  policy: WorkloadCertPolicy = DEFAULT_WORKLOAD_POLICY,
  now = new Date(),
): SignedChain {
  const csr = parseCsr(csrPem);
  const asked = csrUriSans(csr);
  const foreign = asked.filter((id) => !identities.includes(id));
  if (foreign.length) throw new CaError('CSR_ERROR', `the CSR asks for identities the caller does not have: ${foreign.join(', ')}`);
  if (requestedTtlSeconds > policy.maxTtlSeconds) {
    throw new CaError('TTL_ERROR', `requested TTL ${goDuration(requestedTtlSeconds)} is greater than the max allowed TTL ${goDuration(policy.maxTtlSeconds)}`);
  }
  const ttlSeconds = requestedTtlSeconds > 0 ? requestedTtlSeconds : policy.defaultTtlSeconds;
  let certPem: string;
  try {
    const issuer = forge.pki.certificateFromPem(ca.signer.certPem);
    const cert = forge.pki.createCertificate();
    cert.publicKey = csr.publicKey!;
    const serial = randomBytes(16);
    serial[0] = serial[0]! & 0x7f;
    cert.serialNumber = serial.toString('hex');
    cert.validity.notBefore = now;
    cert.validity.notAfter = new Date(now.getTime() + ttlSeconds * 1000);
    cert.setSubject(csr.subject.attributes);
    cert.setIssuer(issuer.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      // With an empty subject the SAN must be critical (RFC 5280 4.2.1.6).
      { name: 'subjectAltName', critical: csr.subject.attributes.length === 0, altNames: identities.map((value) => ({ type: 6, value })) },
      { name: 'authorityKeyIdentifier', keyIdentifier: issuer.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(nativeSigner(ca.signer.keyPem) as unknown as forgeNs.pki.rsa.PrivateKey, forge.md.sha256.create());
    certPem = forge.pki.certificateToPem(cert);
  } catch (e) {
    throw new CaError('CERT_GEN_ERROR', `failed to sign the certificate: ${(e as Error).message}`);
  }
  const roots = splitPem(ca.rootsPem);
  const intermediates = splitPem(ca.chainPem).filter((c) => !roots.includes(c));
  return { chain: [certPem, ...intermediates, ...roots].map((c) => (c.endsWith('\n') ? c : `${c}\n`)).map((c) => c.replace(/\r\n/g, '\n')), ttlSeconds };
}
