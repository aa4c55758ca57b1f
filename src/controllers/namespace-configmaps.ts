// The namespace controller: keeps `istio-ca-root-cert` (and `istio-ca-crl` when a CRL is configured) in
// every namespace, as istiod's does. Namespaces and the managed ConfigMaps are watched, so a new
// namespace gets its ConfigMap and a deleted or edited one is put back; a root rotation re-queues all.
import type { CoreV1Api, KubeConfig, V1ConfigMap, V1Namespace } from '@kubernetes/client-node';
import { errorMessage, isConflict, isForbidden, isNotFound } from '../kube/errors.js';
import { watchResource, type ResilientInformer } from '../kube/informer.js';
import type { Logger } from '../telemetry/logger.js';
import { namespaceWanted, planConfigMap, type DistributedConfigMap } from './configmap-plan.js';
import { WorkQueue } from './work-queue.js';

export interface ManagedValue extends DistributedConfigMap {
  value: string;
}

export class NamespaceConfigMapController {
  private readonly phases = new Map<string, string | undefined>();
  private readonly configMaps = new Map<string, V1ConfigMap>();
  private values: ManagedValue[];
  private readonly queue: WorkQueue;
  private informers: ResilientInformer[] = [];

  constructor(
    private readonly kc: KubeConfig,
    private readonly core: CoreV1Api,
    /** Every ConfigMap name this controller may ever manage (watched even while it has no value). */
    private readonly managed: DistributedConfigMap[],
    values: ManagedValue[],
    private readonly logger: Logger,
  ) {
    this.values = values;
    this.queue = new WorkQueue((ns) => this.reconcile(ns), {
      concurrency: 16,
      maxRetries: 5,
      baseDelayMs: 50,
      maxDelayMs: 5_000,
      onDrop: (ns, err) => logger.error({ namespace: ns, err: errorMessage(err) }, 'giving up on the namespace ConfigMaps until the next change or resync'),
    });
  }

  /** New content (a rotated root, a new CRL): every namespace is brought up to date. */
  setValues(values: ManagedValue[]): void {
    this.values = values;
    for (const ns of this.phases.keys()) this.queue.add(ns);
  }

  async start(): Promise<void> {
    const warn = (what: string) => (err: unknown, retryInMs: number) => this.logger.warn({ what, err: errorMessage(err), retryInMs }, 'watch failed; restarting');
    this.informers.push(
      watchResource<V1Namespace>(this.kc, '/api/v1/namespaces', () => this.core.listNamespace(), {
        upsert: (ns) => this.namespaceSeen(ns),
        remove: (ns) => this.phases.delete(ns.metadata?.name ?? ''),
        synced: (items) => {
          this.phases.clear();
          for (const ns of items) this.namespaceSeen(ns);
        },
        error: warn('namespaces'),
      }),
    );
    for (const cm of this.managed) {
      const fieldSelector = `metadata.name=${cm.name}`;
      this.informers.push(
        watchResource<V1ConfigMap>(this.kc, '/api/v1/configmaps', () => this.core.listConfigMapForAllNamespaces({ fieldSelector }), {
          upsert: (o) => this.configMapSeen(o),
          remove: (o) => {
            this.configMaps.delete(keyOf(o.metadata?.namespace, cm.name));
            this.queue.add(o.metadata?.namespace ?? '');
          },
          synced: (items) => {
            for (const k of [...this.configMaps.keys()]) if (k.startsWith(`${cm.name}/`)) this.configMaps.delete(k);
            for (const o of items) this.configMapSeen(o);
          },
          error: warn(cm.name),
        }, { fieldSelector }),
      );
    }
    await Promise.all(this.informers.map((i) => i.ready));
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
    this.informers = [];
  }

  /** Resolves once every queued namespace has been handled (for tests and benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private namespaceSeen(ns: V1Namespace): void {
    const name = ns.metadata?.name;
    if (!name) return;
    this.phases.set(name, ns.status?.phase);
    this.queue.add(name);
  }

  private configMapSeen(cm: V1ConfigMap): void {
    const ns = cm.metadata?.namespace ?? '';
    this.configMaps.set(keyOf(ns, cm.metadata?.name), cm);
    this.queue.add(ns);
  }

  private async reconcile(namespace: string): Promise<void> {
    if (!this.phases.has(namespace) || !namespaceWanted(namespace, this.phases.get(namespace))) return;
    for (const v of this.values) {
      const action = planConfigMap(this.configMaps.get(keyOf(namespace, v.name)), namespace, v, v.value);
      if (!action) continue;
      try {
        const written = 'create' in action
          ? await this.core.createNamespacedConfigMap({ namespace, body: action.create })
          : await this.core.replaceNamespacedConfigMap({ namespace, name: v.name, body: action.update });
        // Write through, so a re-queue before the watch event does not act on a stale copy.
        this.configMaps.set(keyOf(namespace, v.name), written);
      } catch (err) {
        // Already there (the watch brings it), namespace gone, or namespace terminating: nothing to do.
        if ('create' in action && (isConflict(err) || isNotFound(err) || isForbidden(err))) {
          if (isForbidden(err) && !/being terminated/.test(errorMessage(err))) this.logger.info({ namespace, err: errorMessage(err) }, 'not allowed to create the ConfigMap; skipping');
          continue;
        }
        if ('update' in action && isNotFound(err)) {
          // Deleted under us: the delete event re-queues the namespace and the next pass creates it.
          this.configMaps.delete(keyOf(namespace, v.name));
          continue;
        }
        throw err;
      }
    }
  }
}

function keyOf(namespace: string | undefined, name: string | undefined): string {
  return `${name ?? ''}/${namespace ?? ''}`;
}
