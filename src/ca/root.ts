// The mesh's CA root as Istio keeps it in Secrets, and the decisions about it that need no I/O: reading
// a Secret's data, when a self-signed root is due for rotation, and what the rotated Secret holds.
import { certValidity, createCA, reissueCA, splitPem, type KeyPairPem } from './self-signed.js';

/** The plug-in CA an operator provides (Istio's "cacerts"). */
export const PLUGIN_SECRET = 'cacerts';
/** Where a self-signed root is persisted so restarts and replicas share it. */
export const SELF_SIGNED_SECRET = 'istio-ca-secret';
export const SELF_SIGNED_SECRET_TYPE = 'istio.io/ca-root';

export const KEYS = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  certChain: 'cert-chain.pem',
  root: 'root-cert.pem',
  crl: 'ca-crl.pem',
} as const;

export interface CaRoot {
  source: typeof PLUGIN_SECRET | typeof SELF_SIGNED_SECRET;
  /** The key pair that signs meshd's certificates: the plug-in intermediate or the self-signed root. */
  signer: KeyPairPem;
  /** What follows a leaf in a served chain: the signer and any intermediates above it. */
  chainPem: string;
  /** Every root that verifies meshd's certificates; during a rotation the new one and the old one. */
  rootsPem: string;
  /** A certificate revocation list, when the plug-in CA has one. */
  crlPem?: string;
}

export interface RootPolicy {
  /** Lifetime of a self-signed root, in ms (CITADEL_SELF_SIGNED_CA_CERT_TTL). */
  ttlMs: number;
  /** Rotate when less than this share of the lifetime is left (CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE). */
  gracePercent: number;
}

export const DEFAULT_ROOT_POLICY: RootPolicy = { ttlMs: 3650 * 24 * 3600_000, gracePercent: 20 };

const DAY_MS = 24 * 3600_000;

type SecretData = Record<string, string | undefined>;

const decode = (data: SecretData, key: string): string => Buffer.from(data[key] ?? '', 'base64').toString('utf8');

/** Certificates of a bundle that are still valid at `now`, without repeats. */
export function liveCertificates(bundle: string, now: Date): string[] {
  const seen = new Set<string>();
  return splitPem(bundle).filter((c) => {
    if (seen.has(c)) return false;
    seen.add(c);
    return certValidity(c).notAfter > now;
  });
}

/** The CA in a Secret's (base64) data, or undefined when the Secret lacks a certificate or key. */
export function caRootFromSecret(name: CaRoot['source'], data: SecretData | undefined, now: Date): CaRoot | undefined {
  if (!data) return undefined;
  const signer = { certPem: decode(data, KEYS.caCert), keyPem: decode(data, KEYS.caKey) };
  if (!signer.certPem.includes('BEGIN CERTIFICATE') || !signer.keyPem.includes('PRIVATE KEY')) return undefined;
  const chain = decode(data, KEYS.certChain);
  const roots = liveCertificates(decode(data, KEYS.root), now);
  const crl = decode(data, KEYS.crl);
  return {
    source: name,
    signer,
    chainPem: chain.includes('BEGIN CERTIFICATE') ? chain : signer.certPem,
    rootsPem: (roots.length > 0 ? roots : [signer.certPem]).join(''),
    ...(crl.trim() ? { crlPem: crl } : {}),
  };
}

/** Whether a self-signed root has entered its grace period and should be re-issued. */
export function rotationDue(certPem: string, now: Date, policy: RootPolicy): boolean {
  const { notBefore, notAfter } = certValidity(certPem);
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return notAfter.getTime() - now.getTime() <= (lifetime * policy.gracePercent) / 100;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** The data of istio-ca-secret for a (new or re-issued) root, keeping still-valid older roots in the bundle. */
export function selfSignedSecretData(root: KeyPairPem, previousRoots: string[]): Record<string, string> {
  const roots = [root.certPem, ...previousRoots.filter((c) => c !== root.certPem)];
  return {
    [KEYS.caCert]: b64(root.certPem),
    [KEYS.caKey]: b64(root.keyPem),
    [KEYS.certChain]: '',
    [KEYS.root]: b64(roots.join('')),
  };
}

/** A new self-signed root with the policy's lifetime, its organisation the trust domain. */
export function createSelfSignedRoot(policy: RootPolicy, trustDomain: string): Promise<KeyPairPem> {
  return createCA('meshd root CA', trustDomain, policy.ttlMs / DAY_MS);
}

/** The rotated Secret data for a self-signed root that is due, else undefined. */
export function rotateSelfSigned(current: CaRoot, now: Date, policy: RootPolicy): Record<string, string> | undefined {
  if (current.source !== SELF_SIGNED_SECRET || !rotationDue(current.signer.certPem, now, policy)) return undefined;
  const next = reissueCA(current.signer, policy.ttlMs / DAY_MS);
  return selfSignedSecretData(next, liveCertificates(current.rootsPem, now));
}
