// Plain-HTTP health and metrics server (istiod's :15014): /healthz is liveness, /ready is readiness
// (false until every listener is up, and again while shutting down), /metrics is Prometheus text, and
// /debug/syncz and /debug/config_dump show the xDS server's view of each connected proxy, to loopback
// callers and authenticated ones only (src/security/debug-auth.ts); health and metrics stay open as in istiod.
import Fastify, { LogController } from 'fastify';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { DiscoveryServer } from '../xds/ads.js';
import { debugAccess, type DebugAuthOptions } from '../security/debug-auth.js';
import { configDump, findConnection, syncz } from '../xds/debug.js';

export interface Readiness {
  ready: boolean;
}

/** No authenticators: debug views for loopback callers only. */
const LOOPBACK_ONLY: DebugAuthOptions = { authenticators: [], namespaceRules: true, systemNamespace: () => 'istio-system', allowedNamespaces: new Set() };

export function buildMonitoringApp(logger: Logger, metrics: Metrics, readiness: Readiness, discovery?: DiscoveryServer, debugAuth: DebugAuthOptions = LOOPBACK_ONLY) {
  const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), requestTimeout: 10_000, forceCloseConnections: 'idle' });
  app.get('/healthz', async () => 'ok');
  app.get('/ready', async (_req, reply) => (readiness.ready ? 'ok' : reply.code(503).send('not ready')));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  if (discovery) {
    const xds = discovery;
    /** The namespace a caller is limited to (absent: sees every proxy). */
    const limitedTo = new WeakMap<object, string>();
    // The hook belongs to the debug routes themselves: it runs for whatever URL the router matched to them
    // (it decodes `/%64ebug/...`), and decides on the matched route, never on the raw URL.
    void app.register(async (debug) => {
      debug.addHook('onRequest', async (req, reply) => {
        const path = req.routeOptions.url ?? req.url.split('?')[0]!;
        const access = await debugAccess(req.socket.remoteAddress, req.headers.authorization, path, debugAuth);
        if ('status' in access) {
          logger.warn({ peer: req.socket.remoteAddress, path, status: access.status }, 'debug request refused');
          return reply.code(access.status).send();
        }
        if (!access.all) limitedTo.set(req.raw, access.namespace);
      });
      debug.get<{ Querystring: { namespace?: string } }>('/debug/syncz', async (req) => syncz(xds, req.query.namespace));
      debug.get<{ Querystring: { proxyID?: string } }>('/debug/config_dump', async (req, reply) => {
        const id = req.query.proxyID;
        if (!id) return reply.code(400).send({ error: 'proxyID is required' });
        const conn = findConnection(xds, id);
        const ns = limitedTo.get(req.raw);
        // A proxy of another namespace is reported as not connected, as istiod does.
        if (!conn || (ns !== undefined && conn.proxy.namespace !== ns)) return reply.code(404).send({ error: `proxy ${id} is not connected` });
        return configDump(xds, conn);
      });
    });
  }
  return app;
}
