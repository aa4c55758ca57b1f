// PKCS#10 certificate requests as istio-agent sends them (RSA 2048 by default, ECDSA P-256 with
// ECC_SIGNATURE_ALGORITHM=ECDSA): the public key, the URI SANs asked for and whether a CN was set, after
// the signature verifies and the key is one meshd will sign (RSA of 2048 to 8192 bits, P-256 or P-384).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { bitStringBytes, children, context, contextPrimitive, decodeOid, DerError, expect, readTlv, TAG, type Tlv } from './der.js';

export class CsrError extends Error {}

export interface ParsedCsr {
  /** SubjectPublicKeyInfo, DER, copied into the certificate as it is. */
  spki: Buffer;
  publicKey: KeyObject;
  commonName?: string;
  uriSans: string[];
}

const OID = {
  commonName: '2.5.4.3',
  extensionRequest: '1.2.840.113549.1.9.14',
  subjectAltName: '2.5.29.17',
};

/** Signature algorithms a CSR may use: the digest and the key type it needs. */
const SIGNATURE_ALGORITHMS: Record<string, { hash: string; keyType: 'rsa' | 'ec' }> = {
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyType: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyType: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyType: 'rsa' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyType: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyType: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyType: 'ec' },
};

export const MIN_RSA_BITS = 2048;
/** Larger keys cost the CA more to verify than any workload needs. */
export const MAX_RSA_BITS = 8192;
const CURVES = new Set(['prime256v1', 'secp384r1']);

/** The DER inside the first PEM block labelled `label` (or any of `labels`). */
export function pemBody(pem: string, labels: string[]): Buffer {
  for (const label of labels) {
    const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
    if (m) return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  }
  throw new CsrError('no PEM-encoded certificate request found');
}

/** The first value of an attribute in a Name, as text. */
function nameAttribute(name: Tlv, oidWanted: string): string | undefined {
  for (const rdn of children(expect(name, TAG.sequence, 'subject').value)) {
    for (const atv of children(expect(rdn, TAG.set, 'subject RDN').value)) {
      const [type, value] = children(expect(atv, TAG.sequence, 'subject attribute').value);
      if (type && value && decodeOid(expect(type, TAG.oid, 'attribute type').value) === oidWanted) return value.value.toString('utf8');
    }
  }
  return undefined;
}

/** URI SANs of the extensionRequest attribute, in order. */
function requestedUris(attributes: Tlv | undefined): string[] {
  if (!attributes) return [];
  const uris: string[] = [];
  for (const attr of children(attributes.value)) {
    const [type, values] = children(expect(attr, TAG.sequence, 'attribute').value);
    if (!type || !values || decodeOid(expect(type, TAG.oid, 'attribute type').value) !== OID.extensionRequest) continue;
    for (const exts of children(expect(values, TAG.set, 'extensionRequest').value)) {
      for (const ext of children(expect(exts, TAG.sequence, 'extensions').value)) {
        const parts = children(expect(ext, TAG.sequence, 'extension').value);
        if (decodeOid(expect(parts[0], TAG.oid, 'extension id').value) !== OID.subjectAltName) continue;
        const names = readTlv(expect(parts[parts.length - 1], TAG.octetString, 'extension value').value);
        for (const gn of children(expect(names, TAG.sequence, 'subjectAltName').value)) {
          if (gn.tag === contextPrimitive(6)) uris.push(gn.value.toString('utf8'));
        }
      }
    }
  }
  return uris;
}

function checkKey(key: KeyObject, keyType: 'rsa' | 'ec'): void {
  if (key.asymmetricKeyType !== keyType) throw new CsrError(`the CSR's ${key.asymmetricKeyType} key does not match its signature algorithm`);
  const details = key.asymmetricKeyDetails ?? {};
  if (keyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new CsrError(`RSA key of ${bits} bits is too small: at least ${MIN_RSA_BITS} are required`);
    if (bits > MAX_RSA_BITS) throw new CsrError(`RSA key of ${bits} bits is larger than the ${MAX_RSA_BITS} allowed`);
  } else if (!CURVES.has(details.namedCurve ?? '')) {
    throw new CsrError(`unsupported elliptic curve ${details.namedCurve ?? '(unnamed)'}: P-256 or P-384 is required`);
  }
}

/** Reads and verifies a PEM CSR; every problem is a CsrError. */
export function parseCsr(csrPem: string): ParsedCsr {
  try {
    const der = pemBody(csrPem, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
    const top = readTlv(der);
    if (top.raw.length !== der.length) throw new DerError('trailing bytes after the request');
    const [info, algorithm, signature] = children(expect(top, TAG.sequence, 'certificate request').value);
    const infoParts = children(expect(info, TAG.sequence, 'request info').value);
    const [, subject, spkiTlv] = infoParts;
    const spki = expect(spkiTlv, TAG.sequence, 'public key info').raw;
    const attributes = infoParts.find((t) => t.tag === context(0));
    const algOid = decodeOid(expect(children(expect(algorithm, TAG.sequence, 'signature algorithm').value)[0], TAG.oid, 'algorithm').value);
    const alg = SIGNATURE_ALGORITHMS[algOid];
    if (!alg) throw new CsrError(`unsupported signature algorithm ${algOid}`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    } catch (e) {
      throw new CsrError(`unreadable public key: ${(e as Error).message}`);
    }
    checkKey(publicKey, alg.keyType);
    if (!verify(alg.hash, info!.raw, publicKey, bitStringBytes(signature!, 'signature'))) throw new CsrError('the CSR signature does not verify');
    const commonName = nameAttribute(subject!, OID.commonName);
    return { spki: Buffer.from(spki), publicKey, uriSans: requestedUris(attributes), ...(commonName ? { commonName } : {}) };
  } catch (e) {
    if (e instanceof CsrError) throw e;
    throw new CsrError(`failed to parse the CSR: ${(e as Error).message}`);
  }
}
