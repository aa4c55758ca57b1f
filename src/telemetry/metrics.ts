// Prometheus metrics with istiod's names, so existing dashboards and alerts keep working.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  injectionRequests: Counter;
  injectionSuccess: Counter;
  injectionFailure: Counter;
  injectionSkip: Counter;
  injectionTime: Histogram;
  validationPassed: Counter<'group' | 'version' | 'resource'>;
  validationFailed: Counter<'group' | 'version' | 'resource' | 'reason'>;
  validationHTTPError: Counter<'status'>;
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
    validationPassed: new Counter({ name: 'galley_validation_passed', help: 'Resource is valid', labelNames: ['group', 'version', 'resource'], registers: [registry] }),
    validationFailed: new Counter({
      name: 'galley_validation_failed',
      help: 'Resource validation failed',
      labelNames: ['group', 'version', 'resource', 'reason'],
      registers: [registry],
    }),
    validationHTTPError: new Counter({ name: 'galley_validation_http_error', help: 'Resource validation http serve errors', labelNames: ['status'], registers: [registry] }),
  };
}
