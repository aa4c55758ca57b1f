// A self-signed CA and a serving certificate signed by it, for running without any certificate given.
// Keys come from node:crypto (forge's own key generation blocks the event loop); forge builds the X.509.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as forgeNs from 'node-forge';

// node-forge is CommonJS: its API sits on the default export at run time.
const forge = ((forgeNs as unknown as { default?: typeof forgeNs }).default ?? forgeNs) as typeof forgeNs;

const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

export interface ServingBundle {
  ca: KeyPairPem;
  serving: KeyPairPem;
}

interface ForgeKey {
  publicKey: forgeNs.pki.PublicKey;
  privateKey: forgeNs.pki.PrivateKey;
  keyPem: string;
}

function keyFromPem(keyPem: string): ForgeKey {
  const priv = forge.pki.privateKeyFromPem(keyPem) as forgeNs.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), keyPem };
}

async function rsaKey(): Promise<ForgeKey> {
  const { privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return keyFromPem(privateKey);
}

/** A random positive serial number (RFC 5280 allows up to 20 octets). */
export function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, and no leading zero byte: Go refuses a non-minimal INTEGER
  return b.toString('hex');
}

function validity(cert: forgeNs.pki.Certificate, days: number): void {
  cert.validity.notBefore = new Date(Date.now() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + days * 24 * 3600 * 1000);
}

function issueRoot(subject: forgeNs.pki.CertificateField[], key: ForgeKey, days: number): KeyPairPem {
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serial();
  validity(cert, days);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key.privateKey as forgeNs.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.keyPem };
}

export async function createCA(commonName: string, org = 'cluster.local', days = 3650): Promise<KeyPairPem> {
  const subject = [
    { name: 'organizationName', value: org },
    { name: 'commonName', value: commonName },
  ];
  return issueRoot(subject, await rsaKey(), days);
}

/**
 * The same root again with a fresh validity period: same subject and key, so everything the old root
 * signed still verifies against the new one (Istio's self-signed root rotation does the same).
 */
export function reissueCA(ca: KeyPairPem, days = 3650): KeyPairPem {
  const old = forge.pki.certificateFromPem(ca.certPem);
  return issueRoot(old.subject.attributes, keyFromPem(ca.keyPem), days);
}

/** The PEM certificates in a bundle, in order. */
export function splitPem(bundle: string): string[] {
  // Each keeps its own line ending, so that joining them gives back the bundle byte for byte.
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----(\r?\n)?/g)?.map((c) => (c.endsWith('\n') ? c : `${c}\n`)) ?? [];
}

export function certValidity(certPem: string): { notBefore: Date; notAfter: Date } {
  const c = forge.pki.certificateFromPem(certPem);
  return { notBefore: c.validity.notBefore, notAfter: c.validity.notAfter };
}

export interface CertificateRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ips?: string[];
  /** server: TLS serving (and client) use; client: client authentication only. */
  usage: 'server' | 'client';
  days?: number;
}

/** A leaf certificate with a fresh key, signed by `ca`. */
export async function signCertificate(ca: KeyPairPem, req: CertificateRequest): Promise<KeyPairPem> {
  const key = await rsaKey();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = key.publicKey;
  cert.serialNumber = serial();
  validity(cert, req.days ?? 365);
  cert.setSubject([...(req.organizations ?? []).map((value) => ({ name: 'organizationName', value })), { name: 'commonName', value: req.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [...(req.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(req.ips ?? []).map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: req.usage === 'server', clientAuth: true },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
  ]);
  cert.sign(caKey as forgeNs.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.keyPem };
}

/** A serving certificate for `dnsNames` and `ips`, signed by `ca`. */
export function createServingCert(ca: KeyPairPem, dnsNames: string[], ips: string[], days = 365): Promise<KeyPairPem> {
  return signCertificate(ca, { commonName: dnsNames[0] ?? 'meshd', dnsNames, ips, usage: 'server', days });
}

/** The DNS names istiod's serving certificate carries, for meshd's service and revision. */
export function servingDnsNames(namespace: string, revision: string): string[] {
  const svc = revision && revision !== 'default' ? `istiod-${revision}` : 'istiod';
  return [`${svc}.${namespace}.svc`, `${svc}.${namespace}.svc.cluster.local`, `meshd.${namespace}.svc`, 'localhost'];
}

const LOOPBACK_IPS = ['127.0.0.1', '::1'];

export async function selfSignedBundle(namespace: string, revision: string): Promise<ServingBundle> {
  const ca = await createCA('meshd self-signed CA');
  const serving = await createServingCert(ca, servingDnsNames(namespace, revision), LOOPBACK_IPS);
  return { ca, serving };
}

/** What meshd's webhooks serve: a leaf with the chain above it, and the roots that verify it (for caBundle). */
export interface ServingCertificate {
  cert: string;
  key: string;
  roots: string;
}

/** meshd's webhook certificate from `signer`, for its service names, loopback and (in a pod) the pod IP. */
export async function issueServingCertificate(signer: KeyPairPem, chainPem: string, rootsPem: string, namespace: string, revision: string): Promise<ServingCertificate> {
  const ips = [...LOOPBACK_IPS, ...(process.env.POD_IP ? [process.env.POD_IP] : [])];
  const leaf = await createServingCert(signer, servingDnsNames(namespace, revision), ips);
  return { cert: leaf.certPem + chainPem, key: leaf.keyPem, roots: rootsPem };
}
