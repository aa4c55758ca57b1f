// Cluster mode's Secrets for SDS: only those a Gateway or DestinationRule names as a credential are held,
// and of them only the credential keys. Every Secret is watched (so a change or a new reference is seen)
// but the informer keeps metadata only; when a reference appears the Secret is read by name, and when
// the last reference goes away its data is dropped. istio-ca-secret and cacerts are never referenced
// this way (the CA reads them itself), so they never reach the xDS store.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../telemetry/logger.js';
import { errorMessage, isNotFound } from './errors.js';
import { watchResource, type ResilientInformer } from './informer.js';
import type { KubeObject, ObjectStore } from './store.js';
import { credentialReferences, credentialSecret, isReferenced, type CredentialRefs } from './tls-secrets.js';

const SOURCE = 'cluster:Secret';
/** istiod's SecretsFieldSelector: Helm releases and service-account tokens are never credentials. */
export const SECRETS_FIELD_SELECTOR = 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token';

const ns = (o: KubeObject): string => o.metadata?.namespace ?? '';
const nm = (o: KubeObject): string => o.metadata?.name ?? '';

/** The retention rules, fed by the Secret watch and the referencing config; `read` fetches one Secret. */
export class CredentialSecrets {
  /** Secret name -> namespaces that have one (metadata only), to find what a new bare reference names. */
  private readonly existing = new Map<string, Set<string>>();
  private refs: CredentialRefs = { exact: new Set(), anyNamespace: new Set() };

  constructor(
    private readonly store: ObjectStore,
    private readonly read: (namespace: string, name: string) => Promise<KubeObject | undefined>,
    private readonly logger: Logger,
  ) {}

  private index(o: KubeObject, present: boolean): void {
    let set = this.existing.get(nm(o));
    if (present) {
      if (!set) this.existing.set(nm(o), (set = new Set()));
      set.add(ns(o));
    } else if (set) {
      set.delete(ns(o));
      if (!set.size) this.existing.delete(nm(o));
    }
  }

  private keep(o: KubeObject): void {
    const view = isReferenced(this.refs, ns(o), nm(o)) ? credentialSecret(o) : undefined;
    if (view) this.store.upsert(view, SOURCE);
    else if (this.store.get('Secret', ns(o), nm(o))) this.store.remove('Secret', ns(o), nm(o));
  }

  upsert(o: KubeObject): void {
    this.index(o, true);
    this.keep(o);
  }

  remove(o: KubeObject): void {
    this.index(o, false);
    this.store.remove('Secret', ns(o), nm(o));
  }

  /** A full list: what is held becomes exactly the referenced credentials among `items`. */
  synced(items: KubeObject[]): void {
    this.existing.clear();
    for (const o of items) this.index(o, true);
    const kept = items.filter((o) => isReferenced(this.refs, ns(o), nm(o))).map(credentialSecret);
    this.store.replaceSource(SOURCE, kept.filter((o): o is KubeObject => !!o));
  }

  /** New references: drop what is no longer named, read what now is. Resolves when the reads are done. */
  async setReferences(refs: CredentialRefs): Promise<void> {
    this.refs = refs;
    for (const s of this.store.list('Secret')) if (!isReferenced(refs, ns(s), nm(s))) this.store.remove('Secret', ns(s), nm(s));
    const wanted: Array<[string, string]> = [];
    for (const [name, namespaces] of this.existing) {
      for (const namespace of namespaces) {
        if (isReferenced(refs, namespace, name) && !this.store.get('Secret', namespace, name)) wanted.push([namespace, name]);
      }
    }
    await Promise.all(wanted.map(async ([namespace, name]) => {
      try {
        const o = await this.read(namespace, name);
        // A watch event that arrived meanwhile is at least as new; a reference gone meanwhile wins.
        if (o && isReferenced(this.refs, namespace, name) && !this.store.get('Secret', namespace, name)) this.keep(o);
      } catch (err) {
        const why = 'cannot read a referenced credential Secret; the next watch event or re-list brings it';
        this.logger.warn({ namespace, name, err: errorMessage(err) }, why);
      }
    }));
  }

  /** Held Secrets, for tests and debugging. */
  held(): string[] {
    return this.store.list('Secret').map((s) => `${ns(s)}/${nm(s)}`).sort();
  }
}

const metadataOnly = (s: V1Secret): V1Secret => ({
  metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, resourceVersion: s.metadata?.resourceVersion },
  type: s.type,
});

/** Watches Secrets for the retention rules, re-deciding whenever Gateways or DestinationRules change. */
export function watchCredentialSecrets(kc: KubeConfig, store: ObjectStore, logger: Logger): ResilientInformer {
  const core = kc.makeApiClient(CoreV1Api);
  // V1Secret has the JSON field names; nothing is copied but the credential keys of referenced Secrets.
  const plain = (s: V1Secret): KubeObject => s as KubeObject;
  const retained = new CredentialSecrets(store, async (namespace, name) => {
    try {
      return plain(await core.readNamespacedSecret({ namespace, name }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }, logger);
  const references = (): CredentialRefs => credentialReferences(store.list('Gateway'), store.list('DestinationRule'));
  void retained.setReferences(references());
  // Many config events in one tick (a re-list) re-decide once.
  let queued = false;
  const unsubscribe = store.onChange((kind) => {
    if ((kind !== 'Gateway' && kind !== 'DestinationRule') || queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      void retained.setReferences(references());
    });
  });
  const informer = watchResource<V1Secret>(kc, '/api/v1/secrets', () => core.listSecretForAllNamespaces({ fieldSelector: SECRETS_FIELD_SELECTOR }), {
    upsert: (o) => retained.upsert(plain(o)),
    remove: (o) => retained.remove(plain(o)),
    synced: (items) => retained.synced(items.map(plain)),
    error: (err, retryInMs) => logger.warn({ kind: 'Secret', err: errorMessage(err), retryInMs }, 'watch failed; restarting'),
  }, { fieldSelector: SECRETS_FIELD_SELECTOR, cacheView: metadataOnly });
  return {
    ready: informer.ready,
    stop: async () => {
      unsubscribe();
      await informer.stop();
    },
  };
}
