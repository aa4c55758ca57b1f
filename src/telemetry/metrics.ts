// Prometheus metrics with istiod's names, so existing dashboards and alerts keep working.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface XdsMetrics {
  connected: Gauge;
  pushes: Counter<'type'>;
  rejects: Counter<'type'>;
  expiredNonce: Counter<'type'>;
  convergence: Histogram;
  debounce: Histogram;
  pushContextInit: Histogram;
  services: Gauge;
  virtualServices: Gauge;
}

export interface Metrics {
  registry: Registry;
  xds: XdsMetrics;
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
  const typed = (name: string, help: string): Counter<'type'> => new Counter({ name, help, labelNames: ['type'], registers: [registry] });
  const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers: [registry] });
  const seconds = (name: string, help: string, buckets: number[]): Histogram => new Histogram({ name, help, buckets, registers: [registry] });
  return {
    registry,
    xds: {
      connected: gauge('pilot_xds', 'Number of endpoints connected to this pilot using XDS.'),
      pushes: typed('pilot_xds_pushes', 'xDS responses sent, by type (cds, eds, lds, rds).'),
      rejects: typed('pilot_total_xds_rejects', 'Total number of XDS responses from pilot rejected by proxy.'),
      expiredNonce: typed('pilot_xds_expired_nonce', 'Total number of XDS requests with an expired nonce.'),
      convergence: seconds('pilot_proxy_convergence_time', 'Delay in seconds between config change and a proxy receiving all required configuration.', [0.1, 0.5, 1, 3, 5, 10, 20, 30]),
      debounce: seconds('pilot_debounce_time', 'Delay in seconds between the first config enters debouncing and the merged push request is pushed into the push queue.', [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30]),
      pushContextInit: seconds('pilot_pushcontext_init_seconds', 'Total time in seconds Pilot takes to init pushContext.', [0.01, 0.1, 0.5, 1, 3, 5]),
      services: gauge('pilot_services', 'Total services known to pilot.'),
      virtualServices: gauge('pilot_virt_services', 'Total virtual services known to pilot.'),
    },
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
