// Keeps meshd's webhook configurations trusting its CA: the caBundle of the injection webhooks in every
// MutatingWebhookConfiguration of its revision, and of every webhook in its revision's
// ValidatingWebhookConfigurations. Validation starts as failurePolicy Ignore (as the chart installs it)
// and becomes Fail once a dry-run create of a bad Gateway comes back denied, i.e. the API server can
// reach meshd's validator. Runs on every replica, like istiod's patcher: the writes are idempotent.
import {
  AdmissionregistrationV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import { errorMessage, isNotFound } from '../kube/errors.js';
import { watchResource, type ResilientInformer } from '../kube/informer.js';
import type { Logger } from '../telemetry/logger.js';
import { INVALID_GATEWAY_PROBE, planMutating, planValidating, probeDenied, revisionSelector } from './webhook-plan.js';
import { WorkQueue } from './work-queue.js';

export interface WebhookPatcherOptions {
  revision: string;
  namespace: string;
  /** How often to repeat the validation probe until it succeeds. */
  probeIntervalMs: number;
}

export class WebhookPatcher {
  private readonly admission: AdmissionregistrationV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly mutating = new Map<string, V1MutatingWebhookConfiguration>();
  private readonly validating = new Map<string, V1ValidatingWebhookConfiguration>();
  private readonly queue: WorkQueue;
  private informers: ResilientInformer[] = [];
  private probeTimer: NodeJS.Timeout | undefined;
  private validationReady = false;

  constructor(
    private readonly kc: KubeConfig,
    private caBundle: string,
    private readonly opts: WebhookPatcherOptions,
    private readonly logger: Logger,
  ) {
    this.admission = kc.makeApiClient(AdmissionregistrationV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    // Istio retries these forever: a webhook that does not trust meshd breaks pod creation.
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      concurrency: 2,
      maxRetries: Number.POSITIVE_INFINITY,
      baseDelayMs: 100,
      maxDelayMs: 60_000,
      onDrop: () => undefined,
    });
  }

  /** A new CA bundle (PEM): every configuration is re-patched. */
  setCaBundle(pem: string): void {
    this.caBundle = pem;
    this.enqueueAll();
  }

  async start(): Promise<void> {
    const labelSelector = revisionSelector(this.opts.revision);
    const track = <T extends { metadata?: { name?: string } }>(prefix: string, cache: Map<string, T>) => ({
      upsert: (o: T) => {
        cache.set(o.metadata?.name ?? '', o);
        this.queue.add(`${prefix}/${o.metadata?.name ?? ''}`);
      },
      remove: (o: T) => cache.delete(o.metadata?.name ?? ''),
      synced: (items: T[]) => {
        cache.clear();
        for (const o of items) cache.set(o.metadata?.name ?? '', o);
        this.enqueueAll();
      },
      error: (err: unknown, retryInMs: number) => this.logger.warn({ what: `${prefix} webhooks`, err: errorMessage(err), retryInMs }, 'watch failed; restarting'),
    });
    this.informers.push(
      watchResource(this.kc, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', () => this.admission.listMutatingWebhookConfiguration({ labelSelector }), track('mutating', this.mutating), { labelSelector }),
      watchResource(this.kc, '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', () => this.admission.listValidatingWebhookConfiguration({ labelSelector }), track('validating', this.validating), { labelSelector }),
    );
    await Promise.all(this.informers.map((i) => i.ready));
    this.scheduleProbe(0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.probeTimer);
    this.queue.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private enqueueAll(): void {
    for (const name of this.mutating.keys()) this.queue.add(`mutating/${name}`);
    for (const name of this.validating.keys()) this.queue.add(`validating/${name}`);
  }

  private async reconcile(key: string): Promise<void> {
    const [kind, name] = key.split('/', 2) as [string, string];
    const bundle = Buffer.from(this.caBundle).toString('base64');
    try {
      if (kind === 'mutating') {
        const current = this.mutating.get(name);
        const next = current && planMutating(current, bundle);
        if (next) this.mutating.set(name, await this.admission.replaceMutatingWebhookConfiguration({ name, body: next }));
      } else {
        const current = this.validating.get(name);
        const next = current && planValidating(current, bundle, this.validationReady);
        if (next) this.validating.set(name, await this.admission.replaceValidatingWebhookConfiguration({ name, body: next }));
      }
    } catch (err) {
      // Deleted meanwhile: nothing left to patch. Conflicts and the rest retry once the watch catches up.
      if (isNotFound(err)) return;
      this.logger.warn({ webhook: key, err: errorMessage(err) }, 'cannot patch the webhook configuration; retrying');
      throw err;
    }
  }

  private scheduleProbe(delayMs: number): void {
    this.probeTimer = setTimeout(() => void this.probe(), delayMs);
  }

  /** Istio's readiness check for validation, run until it passes. */
  private async probe(): Promise<void> {
    if (this.validating.size === 0) return this.scheduleProbe(this.opts.probeIntervalMs);
    try {
      await this.custom.createNamespacedCustomObject({
        group: 'networking.istio.io',
        version: 'v1alpha3',
        namespace: this.opts.namespace,
        plural: 'gateways',
        body: INVALID_GATEWAY_PROBE,
        dryRun: 'All',
      });
      this.logger.info('validation probe: a bad Gateway was not denied yet; keeping failurePolicy as it is');
    } catch (err) {
      // No Gateway CRD means nothing to validate against: like istiod, assume validation works.
      const crdMissing = isNotFound(err) && !/namespaces? "/.test(errorMessage(err));
      if (probeDenied(err) || crdMissing) {
        this.validationReady = true;
        this.logger.info({ crdMissing }, 'validation answers; setting failurePolicy Fail');
        this.enqueueAll();
        return;
      }
      this.logger.info({ err: errorMessage(err) }, 'validation probe failed; retrying');
    }
    this.scheduleProbe(this.opts.probeIntervalMs);
  }
}
