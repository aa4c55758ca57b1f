// Whether a proxy's service account may read the Secrets of its namespace, as istiod's credentials
// controller asks it (pilot/pkg/credentials/kube/secrets.go Authorize): a SubjectAccessReview that
// `system:serviceaccount:<ns>:<sa>` may `list` `secrets` in `<ns>`, a grant cached 5 minutes and a refusal
// (or a failed review) 1 minute. SDS generation is synchronous, so the decision is read from the cache:
// a missing one is asked for in the background (SDS waits), an expired one is re-asked while the old
// answer still holds, and every answer that changes something is reported so the proxies can be pushed.
import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../telemetry/logger.js';
import type { ProxyInfo } from '../types.js';
import { bounded } from '../util/bounded.js';
import type { DiscoveryServer } from '../xds/ads.js';
import { authorizeSecretNames, type SecretAccessDecision } from '../xds/gen/secrets.js';
import { TYPE } from '../xds/protos.js';

export const ALLOWED_TTL_MS = 5 * 60_000;
export const DENIED_TTL_MS = 60_000;

export type AccessReview = (namespace: string, serviceAccount: string) => Promise<{ allowed: boolean; reason?: string }>;

interface Entry {
  decision: Exclude<SecretAccessDecision, undefined>;
  expires: number;
}

export class SecretAccess {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Set<string>();

  /** `review` undefined: no API server (local mode), so no RBAC to ask; a verified identity is enough. */
  constructor(
    private readonly review: AccessReview | undefined,
    private readonly onChange: (namespace: string, serviceAccount: string) => void,
    private readonly onError: (namespace: string, serviceAccount: string, err: Error) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  decision(namespace: string, serviceAccount: string): SecretAccessDecision {
    if (!this.review) return { allowed: true };
    const key = `${namespace}/${serviceAccount}`;
    const e = this.entries.get(key);
    if (!e || e.expires <= this.now()) this.refresh(namespace, serviceAccount, key);
    return e?.decision;
  }

  private refresh(namespace: string, serviceAccount: string, key: string): void {
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    this.sweep();
    void this.review!(namespace, serviceAccount)
      .then(
        (r): Entry['decision'] => (r.allowed
          ? { allowed: true }
          : { allowed: false, reason: `${serviceAccount}/${namespace} is not authorized to read secrets: ${r.reason ?? ''}` }),
        (err: Error): Entry['decision'] => {
          this.onError(namespace, serviceAccount, err);
          return { allowed: false, reason: err.message };
        },
      )
      .then((decision) => {
        this.inFlight.delete(key);
        const before = this.entries.get(key)?.decision;
        this.entries.set(key, { decision, expires: this.now() + (decision.allowed ? ALLOWED_TTL_MS : DENIED_TTL_MS) });
        if (before?.allowed !== decision.allowed) this.onChange(namespace, serviceAccount);
      });
  }

  /** Drops answers long past their expiry (identities that went away). */
  private sweep(): void {
    const cutoff = this.now() - ALLOWED_TTL_MS;
    for (const [k, e] of this.entries) if (e.expires < cutoff) this.entries.delete(k);
  }
}

/** The SubjectAccessReview istiod sends. */
export function kubeSecretAccessReview(kc: KubeConfig): AccessReview {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const create = bounded(api.createSubjectAccessReview.bind(api), { maxInFlight: 50, timeoutMs: 5_000, what: 'SubjectAccessReview' });
  return async (namespace, serviceAccount) => {
    const r = await create({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: `system:serviceaccount:${namespace}:${serviceAccount}`, resourceAttributes: { namespace, verb: 'list', resource: 'secrets' } },
      },
    });
    return { allowed: r.status?.allowed === true, reason: r.status?.reason };
  };
}

/**
 * Puts SDS authorization in front of the generator: names are filtered per proxy (denials logged once
 * per proxy and reason, with istiod's wording), and a proxy is pushed again when its answer arrives.
 */
export function installSdsAuthorization(discovery: DiscoveryServer, review: AccessReview | undefined, logger: Logger): SecretAccess {
  const push = (namespace: string, serviceAccount: string): void => {
    for (const c of discovery.connections.values()) {
      const id = c.proxy.verifiedIdentity;
      if (id?.namespace === namespace && id.serviceAccount === serviceAccount && c.watches.has(TYPE.secret)) discovery.enqueuePush(c, Date.now());
    }
  };
  const access = new SecretAccess(review, push, (namespace, serviceAccount, err) =>
    logger.warn({ namespace, serviceAccount, err: err.message }, 'SubjectAccessReview failed; treating it as a refusal'));
  const logged = new WeakMap<ProxyInfo, string>();
  const once = (proxy: ProxyInfo, what: string, log: () => void): void => {
    if (logged.get(proxy) === what) return;
    logged.set(proxy, what);
    log();
  };
  discovery.authorizeSecrets = (proxy, names) => {
    if (!names.length) return [];
    const id = proxy.verifiedIdentity;
    const r = authorizeSecretNames(proxy, names, () => access.decision(id!.namespace, id!.serviceAccount));
    if (!id) {
      once(proxy, 'unverified', () => logger.warn({ proxy: proxy.id },
        'proxy is not authorized to receive credentials. Ensure you are connecting over TLS port and are authenticated.'));
    } else if (r.denied.length) {
      const denied = r.denied.slice(0, 3).join(', ') + (r.denied.length > 3 ? ` and ${r.denied.length - 3} more` : '');
      const who = { proxy: proxy.id, namespace: id.namespace, serviceAccount: id.serviceAccount };
      once(proxy, `${denied}|${r.reason}`, () => logger.warn(who, `proxy attempted to access unauthorized certificates ${denied}: ${r.reason}`));
    }
    return r.allowed;
  };
  return access;
}
