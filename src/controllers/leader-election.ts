// Leader election on a coordination.k8s.io/v1 Lease, the way client-go's elector works: a holder renews
// the Lease every retry period; others take it over only after it has gone unrenewed for a whole lease
// duration, measured on their own clock from when they last saw it change (so clocks need not agree);
// every write carries the resourceVersion it read, so two candidates cannot both win. A leader that
// cannot renew within the renew deadline steps down; on shutdown it releases the Lease at once.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { errorMessage, isConflict, isNotFound } from '../kube/errors.js';
import type { Logger } from '../telemetry/logger.js';

export interface ElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** istiod's timing (pilot/pkg/leaderelection). */
export const ISTIOD_TIMING: ElectionTiming = { leaseDurationMs: 30_000, renewDeadlineMs: 15_000, retryPeriodMs: 7_500 };

/** Dates read back from the API server serialise with milliseconds; MicroTime fields need microseconds. */
const asMicroTime = (d: Date | string): V1MicroTime => new V1MicroTime(d as never);

export interface LeaseView {
  holder: string;
  /** Everything that changes when the holder renews, to tell a live lease from a stale one. */
  fingerprint: string;
  durationMs: number;
}

export function leaseView(lease: V1Lease): LeaseView {
  const s = lease.spec ?? {};
  const renew = s.renewTime ? asMicroTime(s.renewTime).toISOString() : '';
  return { holder: s.holderIdentity ?? '', fingerprint: `${s.holderIdentity ?? ''}|${renew}|${s.leaseTransitions ?? 0}`, durationMs: (s.leaseDurationSeconds ?? 0) * 1000 };
}

/** Whether `identity` may write the lease now, given when this candidate last saw it change. */
export function mayTakeLease(view: LeaseView, identity: string, observedAtMs: number, nowMs: number): boolean {
  return view.holder === '' || view.holder === identity || nowMs >= observedAtMs + view.durationMs;
}

export interface LeaderCallbacks {
  started(): Promise<void> | void;
  stopped(): Promise<void> | void;
}

export interface ElectorOptions extends ElectionTiming {
  namespace: string;
  name: string;
  identity: string;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private observed: { fingerprint: string; atMs: number } | undefined;
  private leading = false;
  private lastRenewMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    kc: KubeConfig,
    private readonly opts: ElectorOptions,
    private readonly callbacks: LeaderCallbacks,
    private readonly logger: Logger,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops competing; a leader stops its work and releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    await this.setLeading(false);
    try {
      const lease = await this.api.readNamespacedLease({ namespace: this.opts.namespace, name: this.opts.name });
      if (lease.spec?.holderIdentity === this.opts.identity) {
        await this.api.replaceNamespacedLease({
          namespace: this.opts.namespace,
          name: this.opts.name,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime() } },
        });
        this.logger.info({ lease: this.opts.name }, 'released leadership');
      }
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'cannot release the lease; it expires by itself');
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.tryAcquireOrRenew().catch((err: unknown) => {
      this.logger.warn({ lease: this.opts.name, err: errorMessage(err) }, 'leader election: cannot read or write the lease');
      return false;
    });
    if (this.stopped) return;
    const now = Date.now();
    if (ok) {
      this.lastRenewMs = now;
      if (!this.leading) await this.setLeading(true);
    } else if (this.leading && now - this.lastRenewMs > this.opts.renewDeadlineMs) {
      this.logger.warn({ lease: this.opts.name }, 'could not renew the lease in time; stepping down');
      await this.setLeading(false);
    }
    this.timer = setTimeout(() => void this.tick(), this.opts.retryPeriodMs);
  }

  private setLeading(leading: boolean): Promise<void> {
    this.leading = leading;
    // Start and stop callbacks run one after the other, never overlapping.
    this.transition = this.transition.then(async () => {
      try {
        this.logger.info({ lease: this.opts.name, identity: this.opts.identity }, leading ? 'became the leader' : 'no longer the leader');
        await (leading ? this.callbacks.started() : this.callbacks.stopped());
      } catch (err) {
        this.logger.error({ err: errorMessage(err) }, 'leader callback failed');
      }
    });
    return this.transition;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    const now = new V1MicroTime();
    const spec = { holderIdentity: identity, leaseDurationSeconds: Math.max(1, Math.round(this.opts.leaseDurationMs / 1000)), renewTime: now };
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: { ...spec, acquireTime: now, leaseTransitions: 0 } } });
        return true;
      } catch (createErr) {
        if (isConflict(createErr)) return false;
        throw createErr;
      }
    }
    const view = leaseView(lease);
    if (this.observed?.fingerprint !== view.fingerprint) this.observed = { fingerprint: view.fingerprint, atMs: Date.now() };
    if (!mayTakeLease(view, identity, this.observed.atMs, Date.now())) return false;
    const takingOver = view.holder !== identity;
    try {
      await this.api.replaceNamespacedLease({
        namespace,
        name,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            ...spec,
            acquireTime: takingOver || !lease.spec?.acquireTime ? now : asMicroTime(lease.spec.acquireTime),
            leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
          },
        },
      });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
