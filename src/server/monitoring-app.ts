// Plain-HTTP health and metrics server (istiod's :15014): /healthz is liveness, /ready is readiness
// (false until every listener is up, and again while shutting down), /metrics is Prometheus text, and
// /debug/syncz and /debug/config_dump show the xDS server's view of each connected proxy.
import Fastify, { LogController } from 'fastify';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { DiscoveryServer } from '../xds/ads.js';
import { configDump, findConnection, syncz } from '../xds/debug.js';

export interface Readiness {
  ready: boolean;
}

export function buildMonitoringApp(logger: Logger, metrics: Metrics, readiness: Readiness, discovery?: DiscoveryServer) {
  const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), requestTimeout: 10_000, forceCloseConnections: 'idle' });
  app.get('/healthz', async () => 'ok');
  app.get('/ready', async (_req, reply) => (readiness.ready ? 'ok' : reply.code(503).send('not ready')));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  if (discovery) {
    app.get('/debug/syncz', async () => syncz(discovery));
    app.get<{ Querystring: { proxyID?: string } }>('/debug/config_dump', async (req, reply) => {
      const id = req.query.proxyID;
      if (!id) return reply.code(400).send({ error: 'proxyID is required' });
      const conn = findConnection(discovery, id);
      if (!conn) return reply.code(404).send({ error: `proxy ${id} is not connected` });
      return configDump(discovery, conn);
    });
  }
  return app;
}
