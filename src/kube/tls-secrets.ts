// TLS credentials held in Kubernetes Secrets, as istiod's credentials controller reads them: a
// kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) or a generic one (cert, key, cacert).
import type { KubeObject } from './store.js';

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
