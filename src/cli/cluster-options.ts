// `meshd serve`'s cluster-mode settings, from Istio's environment variables where istiod has one (apart
// from options.ts because they need the Kubernetes client's modules, which only `serve` loads).
import { DEFAULT_ROOT_POLICY } from '../ca/root.js';
import { ISTIOD_TIMING } from '../controllers/leader-election.js';
import { durationMs, type ServeClusterOptions } from './options.js';

/** Cluster-mode settings, from Istio's environment variables where istiod has one. */
export function clusterOptions(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): ServeClusterOptions {
  const str = (k: string): string | undefined => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  const grace = Number(env.CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE || 20);
  if (!(grace > 0 && grace < 100)) throw new Error('CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE must be between 0 and 100');
  const checkMs = durationMs(env.CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL, 3600_000, 'CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL');
  const election = {
    leaseDurationMs: durationMs(str('lease-duration'), ISTIOD_TIMING.leaseDurationMs, '--lease-duration'),
    renewDeadlineMs: durationMs(str('renew-deadline'), ISTIOD_TIMING.renewDeadlineMs, '--renew-deadline'),
    retryPeriodMs: durationMs(str('retry-period'), ISTIOD_TIMING.retryPeriodMs, '--retry-period'),
  };
  return {
    rootPolicy: { ttlMs: durationMs(env.CITADEL_SELF_SIGNED_CA_CERT_TTL, DEFAULT_ROOT_POLICY.ttlMs, 'CITADEL_SELF_SIGNED_CA_CERT_TTL'), gracePercent: grace },
    // Rotations by another replica must reach this one within a minute even with an hourly check.
    rootPollMs: Math.min(checkMs, 60_000),
    election: (env.ENABLE_LEADER_ELECTION ?? 'true').toLowerCase() === 'false' ? undefined : election,
    identity: env.POD_NAME || undefined,
  };
}
