// TLS credentials from Kubernetes Secrets, for SDS `kubernetes://` resources (istiod's credentials
// controller): a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) or a generic one (cert, key, cacert).
import type { KubeObject } from '../kube/store.js';

export interface TlsCredential {
  cert?: string;
  key?: string;
  ca?: string;
}

function secretData(o: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((o.stringData ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The credential a Secret holds, or undefined when it holds none (so it is not worth keeping). */
export function credentialOf(o: KubeObject): TlsCredential | undefined {
  const d = secretData(o);
  const cred: TlsCredential = { cert: d['tls.crt'] ?? d.cert, key: d['tls.key'] ?? d.key, ca: d['ca.crt'] ?? d.cacert };
  return cred.cert || cred.ca ? cred : undefined;
}

export function credentialsFrom(secrets: KubeObject[]): Map<string, TlsCredential> {
  const out = new Map<string, TlsCredential>();
  for (const s of secrets) {
    const cred = credentialOf(s);
    if (cred) out.set(`${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`, cred);
  }
  return out;
}

export interface CredentialName {
  namespace: string;
  name: string;
  /** `-cacert`: only the CA part (istiod's credentialName-cacert convention). */
  caOnly: boolean;
}

/** `kubernetes://name`, `kubernetes://ns/name`, and their `-cacert` forms; the namespace defaults to the proxy's. */
export function parseCredentialName(resource: string, proxyNamespace: string): CredentialName | undefined {
  const m = /^kubernetes:\/\/(?:([^/]+)\/)?([^/]+)$/.exec(resource);
  if (!m) return undefined;
  const caOnly = m[2]!.endsWith('-cacert');
  return { namespace: m[1] ?? proxyNamespace, name: caOnly ? m[2]!.slice(0, -'-cacert'.length) : m[2]!, caOnly };
}
