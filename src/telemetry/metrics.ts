// Prometheus metrics with istiod's names, so existing dashboards and alerts keep working.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  injectionRequests: Counter;
  injectionSuccess: Counter;
  injectionFailure: Counter;
  injectionSkip: Counter;
  injectionTime: Histogram;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string): Counter => new Counter({ name, help, registers: [registry] });
  return {
    registry,
    injectionRequests: counter('sidecar_injection_requests_total', 'Total number of sidecar injection requests.'),
    injectionSuccess: counter('sidecar_injection_success_total', 'Total number of successful sidecar injection requests.'),
    injectionFailure: counter('sidecar_injection_failure_total', 'Total number of failed sidecar injection requests.'),
    injectionSkip: counter('sidecar_injection_skip_total', 'Total number of skipped sidecar injection requests.'),
    injectionTime: new Histogram({
      name: 'sidecar_injection_time_seconds',
      help: 'Total time taken for injection in seconds.',
      buckets: [0.1, 1, 3, 5, 10, 20, 30, 60],
      registers: [registry],
    }),
  };
}
