// SDS from istiod (pilot/pkg/xds/sds.go): `kubernetes://` credentials (Gateway and DestinationRule
// credentialName) as Envoy Secrets, only to a proxy with a verified identity, only of that identity's
// namespace, and the key only when its service account may list Secrets there (the CA part of a
// credential is public and needs no such check). Workload certificates (`default`, `ROOTCA`) are not
// here: istio-agent serves those from the CA, and proxyless gRPC reads files.
import type { ProxyInfo } from '../../types.js';
import { parseCredentialName } from '../credentials.js';
import type { PushContext } from '../push-context.js';
import type { Msg } from './common.js';

const inline = (pem: string): Msg => ({ inline_bytes: Buffer.from(pem) });

/** Whether a service account may read Secrets in its namespace; undefined while that is being asked. */
export type SecretAccessDecision = { allowed: true } | { allowed: false; reason: string } | undefined;

export interface SecretAuthorization {
  allowed: string[];
  denied: string[];
  /** Why names were denied (istiod logs it with the proxy id). */
  reason?: string;
  /** Some names wait for the access review; the proxy is pushed again once it is answered. */
  pending: boolean;
}

/** istiod's filterAuthorizedResources for `kubernetes://` names; `access` is consulted only when a key is asked for. */
export function authorizeSecretNames(proxy: ProxyInfo, names: string[], access: () => SecretAccessDecision): SecretAuthorization {
  const out: SecretAuthorization = { allowed: [], denied: [], pending: false };
  const identity = proxy.verifiedIdentity;
  if (!identity) return { ...out, denied: [...names], reason: 'no verified identity' };
  let decision: SecretAccessDecision | null = null;
  for (const name of names) {
    const ref = parseCredentialName(name, identity.namespace);
    if (!ref) continue; // not a Kubernetes credential: nothing is generated for it
    if (ref.namespace !== identity.namespace) {
      out.denied.push(name);
      out.reason ??= 'cross namespace secret reference requires ReferenceGrant';
      continue;
    }
    if (ref.caOnly) {
      out.allowed.push(name);
      continue;
    }
    if (decision === null) decision = access();
    if (decision === undefined) out.pending = true;
    else if (decision.allowed) out.allowed.push(name);
    else {
      out.denied.push(name);
      out.reason = decision.reason;
    }
  }
  return out;
}

export function generateSecret(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const namespace = proxy.verifiedIdentity?.namespace;
  if (!namespace) return undefined;
  const ref = parseCredentialName(name, namespace);
  if (!ref || ref.namespace !== namespace) return undefined;
  const cred = ctx.credentials.get(`${ref.namespace}/${ref.name}`);
  if (!cred) return undefined;
  if (ref.caOnly) return cred.ca ? { name, validation_context: { trusted_ca: inline(cred.ca) } } : undefined;
  return cred.cert && cred.key ? { name, tls_certificate: { certificate_chain: inline(cred.cert), private_key: inline(cred.key) } } : undefined;
}
