// Plain-HTTP health and metrics server (istiod's :15014): /healthz is liveness, /ready is readiness
// (false until every listener is up, and again while shutting down), /metrics is Prometheus text.
import Fastify, { LogController } from 'fastify';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface Readiness {
  ready: boolean;
}

export function buildMonitoringApp(logger: Logger, metrics: Metrics, readiness: Readiness) {
  const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), requestTimeout: 10_000, forceCloseConnections: 'idle' });
  app.get('/healthz', async () => 'ok');
  app.get('/ready', async (_req, reply) => (readiness.ready ? 'ok' : reply.code(503).send('not ready')));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  return app;
}
