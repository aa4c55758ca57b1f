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

/**
 * The Secrets Istio config names as credentials (Gateway `tls.credentialName`, DestinationRule
 * `tls.credentialName` at the top, per port and per subset). A bare name is looked up in the namespace of
 * whichever proxy uses it, so it names the Secret of that name in every namespace; `ns/name` names one.
 */
export interface CredentialRefs {
  exact: Set<string>;
  anyNamespace: Set<string>;
}

const CREDENTIAL_KEYS = ['tls.crt', 'tls.key', 'ca.crt', 'cert', 'key', 'cacert'];

type Loose = Record<string, unknown>;
const asObj = (v: unknown): Loose => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Loose) : {});
const asList = (v: unknown): Loose[] => (Array.isArray(v) ? v.map(asObj) : []);

function tlsNames(tls: unknown): string[] {
  const t = asObj(tls);
  const names = [t.credentialName, ...(Array.isArray(t.credentialNames) ? t.credentialNames : [])];
  return names.filter((n): n is string => typeof n === 'string' && n !== '');
}

function policyNames(policy: unknown): string[] {
  const p = asObj(policy);
  return [...tlsNames(p.tls), ...asList(p.portLevelSettings).flatMap((s) => tlsNames(s.tls))];
}

export function credentialReferences(gateways: KubeObject[], destinationRules: KubeObject[]): CredentialRefs {
  const refs: CredentialRefs = { exact: new Set(), anyNamespace: new Set() };
  const add = (raw: string): void => {
    const name = raw.replace(/^kubernetes:\/\//, '');
    for (const n of name.endsWith('-cacert') ? [name, name.slice(0, -'-cacert'.length)] : [name]) {
      if (n.includes('/')) refs.exact.add(n);
      else refs.anyNamespace.add(n);
    }
  };
  for (const g of gateways) for (const s of asList(asObj(g.spec).servers)) tlsNames(s.tls).forEach(add);
  for (const dr of destinationRules) {
    const spec = asObj(dr.spec);
    policyNames(spec.trafficPolicy).forEach(add);
    for (const subset of asList(spec.subsets)) policyNames(subset.trafficPolicy).forEach(add);
  }
  return refs;
}

export const isReferenced = (refs: CredentialRefs, namespace: string, name: string): boolean =>
  refs.anyNamespace.has(name) || refs.exact.has(`${namespace}/${name}`);

/** What meshd keeps of a referenced Secret: its credential keys and no other data; undefined when it holds no credential. */
export function credentialSecret(o: KubeObject): KubeObject | undefined {
  if (!credentialOf(o)) return undefined;
  const pick = (d: unknown): Record<string, string> =>
    Object.fromEntries(Object.entries(asObj(d)).filter((e): e is [string, string] => CREDENTIAL_KEYS.includes(e[0]) && typeof e[1] === 'string'));
  const m = asObj(o.metadata);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: o.type,
    metadata: { name: m.name as string, namespace: m.namespace as string, resourceVersion: m.resourceVersion },
    data: pick(o.data),
    ...(o.stringData ? { stringData: pick(o.stringData) } : {}),
  };
}
