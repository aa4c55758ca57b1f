// Workload certificates from CSRs, as istiod's CA signs them (security/pkg/pki/util genCertTemplateFromCSR):
// nothing of the CSR but its public key is used; the subject is empty (a CN, the first identity, only when
// the CSR has one: Istio's dual use), the SAN is the caller's SPIFFE identity, critical; validity starts two
// minutes back for clock skew and never outlives the signing certificate. A TTL above the maximum is
// refused (Istio refuses rather than shortening it). Pure apart from the clock and the serial.
import { createHash, createPrivateKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { CsrError, parseCsr } from './csr.js';
import * as der from './der.js';
import type { CaRoot } from './root.js';
import { splitPem } from './self-signed.js';

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

/** istiod's ClockSkewGracePeriod: NotBefore is this far before the signing time. */
export const CLOCK_SKEW_MS = 2 * 60_000;

/** Go's time.Duration text for whole seconds (3h0m0s), as istiod words its TTL error. */
function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h ? `${h}h${m}m${s}s` : m ? `${m}m${s}s` : `${s}s`;
}

const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  commonName: '2.5.4.3',
};

/** What meshd needs of its signing certificate, read once per certificate. */
interface Issuer {
  subject: Buffer;
  keyId: Buffer;
  notAfter: Date;
  key: KeyObject;
  /** Signature algorithm identifier and digest for the CA key (Go's defaults for the key type). */
  algorithm: Buffer;
  hash: string;
}

function signatureAlgorithm(key: KeyObject): { algorithm: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'rsa') return { algorithm: der.sequence(der.oid('1.2.840.113549.1.1.11'), der.derNull()), hash: 'sha256' };
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const [oid, hash] = curve === 'secp384r1' ? ['1.2.840.10045.4.3.3', 'sha384'] : curve === 'secp521r1' ? ['1.2.840.10045.4.3.4', 'sha512'] : ['1.2.840.10045.4.3.2', 'sha256'];
    return { algorithm: der.sequence(der.oid(oid!)), hash: hash! };
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

/** The subject, key identifier and lifetime of a CA certificate, from its DER. */
function readIssuer(certPem: string, keyPem: string): Issuer {
  const x509 = new X509Certificate(certPem);
  const [tbs] = der.children(der.readTlv(x509.raw).value);
  const fields = der.children(tbs!.value);
  const offset = fields[0]?.tag === der.context(0) ? 1 : 0;
  const subject = fields[offset + 4]!;
  const spki = fields[offset + 5]!;
  let keyId: Buffer | undefined;
  const extensions = fields.find((f) => f.tag === der.context(3));
  for (const ext of extensions ? der.children(der.children(extensions.value)[0]!.value) : []) {
    const parts = der.children(ext.value);
    if (der.decodeOid(parts[0]!.value) === OID.subjectKeyId) keyId = der.readTlv(parts[parts.length - 1]!.value).value;
  }
  // RFC 5280 4.2.1.2 method 1 when the CA certificate carries no identifier of its own.
  keyId ??= createHash('sha1').update(der.bitStringBytes(der.children(spki.value)[1]!, 'CA public key')).digest();
  const key = createPrivateKey(keyPem);
  return { subject: Buffer.from(subject.raw), keyId: Buffer.from(keyId), notAfter: new Date(x509.validTo), key, ...signatureAlgorithm(key) };
}

let issuerCache: { certPem: string; keyPem: string; issuer: Issuer } | undefined;
function issuerOf(signer: { certPem: string; keyPem: string }): Issuer {
  if (issuerCache?.certPem !== signer.certPem || issuerCache.keyPem !== signer.keyPem) {
    issuerCache = { ...signer, issuer: readIssuer(signer.certPem, signer.keyPem) }; // only the current CA is worth keeping
  }
  return issuerCache.issuer;
}

const extension = (id: string, critical: boolean, value: Buffer): Buffer =>
  der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));

/** Go's asn1 writes a string as PrintableString when it can, else UTF8String. */
function directoryString(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? der.tlv(0x13, Buffer.from(s)) : der.tlv(der.TAG.utf8String, Buffer.from(s, 'utf8'));
}

/** Istio's subject: empty, or CN = the first identity when the CSR set a CN and it fits (64 characters). */
function subjectName(csrCommonName: string | undefined, identities: string[]): Buffer {
  const cn = identities[0];
  if (!csrCommonName || !cn || cn.length > 64) return der.sequence();
  return der.sequence(der.tlv(der.TAG.set, der.sequence(der.oid(OID.commonName), directoryString(cn))));
}

/** A random positive serial number of 128 bits, like istiod's genSerialNum. */
function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, and no leading zero byte to strip
  return der.unsignedInteger(b);
}

function leafExtensions(issuer: Issuer, identities: string[]): Buffer {
  const sans = der.sequence(...identities.map((id) => der.tlv(der.contextPrimitive(6), Buffer.from(id))));
  return der.tlv(der.context(3), der.sequence(
    // digitalSignature | keyEncipherment: bits 0 and 2, five unused bits.
    extension(OID.keyUsage, true, der.bitString(Buffer.from([0xa0]), 5)),
    extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth), der.oid(OID.clientAuth))),
    extension(OID.basicConstraints, true, der.sequence()),
    extension(OID.authorityKeyId, false, der.sequence(der.tlv(der.contextPrimitive(0), issuer.keyId))),
    // Critical because the subject is empty (RFC 5280 4.2.1.6), as istiod marks it.
    extension(OID.subjectAltName, true, sans),
  ));
}

const toPem = (bytes: Buffer): string => `-----BEGIN CERTIFICATE-----\n${bytes.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

/** What signs workload certificates: the CA root in force (plug-in or self-signed), or local mode's CA. */
export type SigningCa = Pick<CaRoot, 'signer' | 'chainPem' | 'rootsPem'>;

export interface SignedChain {
  /** Leaf, then the intermediates, then the roots, one certificate each with a trailing newline (istiod's shape). */
  chain: string[];
  ttlSeconds: number;
}

function checkTtl(requestedTtlSeconds: number, policy: WorkloadCertPolicy): number {
  if (!Number.isInteger(requestedTtlSeconds) || requestedTtlSeconds < 0) {
    throw new CaError('TTL_ERROR', `requested TTL ${requestedTtlSeconds} is not a whole, non-negative number of seconds`);
  }
  if (requestedTtlSeconds > policy.maxTtlSeconds) {
    throw new CaError('TTL_ERROR', `requested TTL ${goDuration(requestedTtlSeconds)} is greater than the max allowed TTL ${goDuration(policy.maxTtlSeconds)}`);
  }
  return requestedTtlSeconds > 0 ? requestedTtlSeconds : policy.defaultTtlSeconds;
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
  let csr;
  try {
    csr = parseCsr(csrPem);
  } catch (e) {
    throw new CaError('CSR_ERROR', (e as CsrError).message);
  }
  const foreign = csr.uriSans.filter((id) => !identities.includes(id));
  if (foreign.length) throw new CaError('CSR_ERROR', `the CSR asks for identities the caller does not have: ${foreign.join(', ')}`);
  const ttlSeconds = checkTtl(requestedTtlSeconds, policy);
  let certPem: string;
  try {
    const issuer = issuerOf(ca.signer);
    if (now >= issuer.notAfter) throw new Error(`signing certificate has expired at ${issuer.notAfter.toISOString()}`);
    const notAfter = new Date(Math.min(now.getTime() + ttlSeconds * 1000, issuer.notAfter.getTime()));
    const tbs = der.sequence(
      der.tlv(der.context(0), der.smallInteger(2)),
      serialNumber(),
      issuer.algorithm,
      issuer.subject,
      der.sequence(der.time(new Date(now.getTime() - CLOCK_SKEW_MS)), der.time(notAfter)),
      subjectName(csr.commonName, identities),
      csr.spki,
      leafExtensions(issuer, identities),
    );
    const signature = sign(issuer.hash, tbs, issuer.key);
    certPem = toPem(der.sequence(tbs, issuer.algorithm, der.bitString(signature)));
  } catch (e) {
    throw new CaError('CERT_GEN_ERROR', `failed to sign the certificate: ${(e as Error).message}`);
  }
  const roots = splitPem(ca.rootsPem);
  const intermediates = splitPem(ca.chainPem).filter((c) => !roots.includes(c));
  return { chain: [certPem, ...intermediates, ...roots].map((c) => (c.endsWith('\n') ? c : `${c}\n`)).map((c) => c.replace(/\r\n/g, '\n')), ttlSeconds };
}
