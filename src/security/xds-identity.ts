// istiod's xDS identity check (pilot/pkg/xds/auth.go checkConnectionIdentity): a proxy may only act as
// the namespace, and the service account when it names one, that its authenticated identity holds.
import type { ProxyInfo, VerifiedIdentity } from '../types.js';
import { parseSpiffeId } from './authenticate.js';

export type IdentityCheck = { ok: true; identity: VerifiedIdentity } | { ok: false; error: string };

export function checkConnectionIdentity(proxy: Pick<ProxyInfo, 'namespace' | 'serviceAccount'>, identities: string[]): IdentityCheck {
  for (const raw of identities) {
    const id = parseSpiffeId(raw);
    if (!id) continue;
    if (proxy.namespace && id.namespace !== proxy.namespace) continue;
    if (proxy.serviceAccount && id.serviceAccount !== proxy.serviceAccount) continue;
    return { ok: true, identity: id };
  }
  return { ok: false, error: `no identities (${JSON.stringify(identities)}) matched ${proxy.namespace}/${proxy.serviceAccount ?? ''}` };
}
