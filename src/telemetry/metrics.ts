// Prometheus metrics with istiod's names, so existing dashboards and alerts keep working.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface XdsMetrics {
  connected: Gauge;
  pushes: Counter<'type'>;
  rejects: Counter<'type'>;
  expiredNonce: Counter<'type'>;
  writeTimeouts: Counter;
  convergence: Histogram;
  debounce: Histogram;
  pushContextInit: Histogram;
  services: Gauge;
  virtualServices: Gauge;
}

export interface CaMetrics {
  csr: Counter;
  authFailure: Counter;
  success: Counter;
  signError: Counter<'error_type'>;
}

export interface Metrics {
  registry: Registry;
  xds: XdsMetrics;
  ca: CaMetrics;
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
      connected: gauge('pilot_xds', 'xDS streams connected.'),
      pushes: typed('pilot_xds_pushes', 'xDS responses sent, by type (cds, eds, lds, rds).'),
      rejects: typed('pilot_total_xds_rejects', 'xDS responses rejected by proxies (NACKs), by type.'),
      expiredNonce: typed('pilot_xds_expired_nonce', 'xDS requests carrying a stale nonce, by type.'),
      writeTimeouts: counter('pilot_xds_write_timeout', 'xDS responses left untaken for the send timeout (the stream is closed).'),
      convergence: seconds('pilot_proxy_convergence_time', 'Seconds from the start of a push until all of a proxy’s types were written.', [0.1, 0.5, 1, 3, 5, 10, 20, 30]),
      debounce: seconds('pilot_debounce_time', 'Seconds from the first debounced change until its push context is built.', [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30]),
      pushContextInit: seconds('pilot_pushcontext_init_seconds', 'Seconds to build a push context.', [0.01, 0.1, 0.5, 1, 3, 5]),
      services: gauge('pilot_services', 'Services in the registry.'),
      virtualServices: gauge('pilot_virt_services', 'VirtualServices known.'),
    },
    ca: {
      csr: counter('citadel_server_csr_count', 'Certificate signing requests received.'),
      authFailure: counter('citadel_server_authentication_failure_count', 'Certificate requests refused because the caller was not authenticated.'),
      success: counter('citadel_server_success_cert_issuance_count', 'Workload certificates issued.'),
      signError: new Counter({ name: 'citadel_server_csr_sign_error_count', help: 'Certificate requests that failed to sign, by error type.', labelNames: ['error_type'], registers: [registry] }),
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
