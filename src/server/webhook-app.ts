// The HTTPS admission webhook server (istiod's :15017). Transport rules follow istiod: bodies up to
// 6 MiB, an empty or oversized body is HTTP 400, a Content-Type other than exactly application/json is
// HTTP 415, and anything that reaches the handler gets an AdmissionReview answer.
import { Readable } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SettingsProvider } from '../inject/review.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { AdmissionReview } from '../types.js';
import { tlsServerOptions, type TlsMinVersion } from '../net/tls-policy.js';
import { inlineRunner, type AdmissionRunner } from './admission-runner.js';
import { jsonNesting, MAX_JSON_DEPTH } from './admission-work.js';

export { jsonNesting, MAX_JSON_DEPTH };

/** istio pkg/kube/util.go MaxRequestBodyBytes. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface WebhookAppOptions {
  logger: Logger;
  metrics: Metrics;
  settingsFor: SettingsProvider;
  tls: SecureContextOptions & { key: string; cert: string };
  /** --tls-min-version (istiod's): 1.2 or 1.3. */
  tlsMinVersion?: TlsMinVersion;
  /** Whole-request deadline, so slow-drip clients cannot hold connections. */
  requestTimeoutMs?: number;
  /** Where reviews are worked out: the admission worker pool in `meshd serve`; inline by default. */
  admission?: AdmissionRunner;
}

/**
 * The review as JSON. A patch is base64 (nothing to escape), so it is spliced in rather than scanned by
 * JSON.stringify: for a large pod that scan is a measurable share of the request.
 */
export function serializeReview(review: AdmissionReview): string {
  const patch = review.response?.patch;
  if (!patch) return JSON.stringify(review);
  const text = JSON.stringify({ ...review, response: { ...review.response, patch: '' } });
  const at = text.indexOf('"patch":""') + '"patch":"'.length;
  return text.slice(0, at) + patch + text.slice(at);
}

/** Replies larger than this are written in chunks of this size, one per turn of the event loop. */
const REPLY_CHUNK_BYTES = 64 * 1024;

/**
 * Sends JSON text. TLS encrypts a write synchronously, and a patch can be megabytes (a hostile pod's): large
 * replies go out a chunk at a time so that health probes and xDS are served between the chunks.
 */
function sendJson(reply: FastifyReply, text: string): FastifyReply {
  reply.type('application/json; charset=utf-8');
  if (text.length <= REPLY_CHUNK_BYTES) return reply.send(text);
  const bytes = Buffer.from(text, 'utf8');
  reply.header('content-length', bytes.length);
  return reply.send(Readable.from((function* chunks() {
    for (let at = 0; at < bytes.length; at += REPLY_CHUNK_BYTES) yield bytes.subarray(at, at + REPLY_CHUNK_BYTES);
  })(), { objectMode: false }));
}

type Body = { ok: true; text: string } | { ok: false; status: number; message: string };

/** Reads the request body as istiod does (parsing is admission work, done by the runner). */
function readBody(req: FastifyRequest): Body {
  const raw = req.body as Buffer | undefined;
  if (!raw || raw.length === 0) return { ok: false, status: 400, message: 'no body found' };
  if (req.headers['content-type'] !== 'application/json') return { ok: false, status: 415, message: 'invalid Content-Type, want `application/json`' };
  return { ok: true, text: raw.toString('utf8') };
}

export function buildWebhookApp(opts: WebhookAppOptions) {
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const app = Fastify({
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // Node applies requestTimeout to slow bodies only when given to the server's constructor (Fastify sets
    // it afterwards), and checks it every connectionsCheckingInterval (30 s by default): give both here.
    https: { ...tlsServerOptions(opts.tlsMinVersion), ...opts.tls, requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, requestTimeoutMs) } as never,
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs,
    keepAliveTimeout: 65_000,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });

  // Bodies are taken raw and checked by istiod's rules in the handler, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 400 : (err.statusCode ?? 500);
    if (req.url.startsWith('/inject')) {
      opts.metrics.injectionRequests.inc();
      opts.metrics.injectionFailure.inc();
    } else if (req.url.startsWith('/validate')) opts.metrics.validationHTTPError.inc({ status: String(status) });
    // istiod answers an unreadable or oversized body with 400, not Fastify's 413.
    if (status >= 500) opts.logger.error({ err }, 'webhook request failed');
    void reply.code(status).type('text/plain; charset=utf-8').send(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request entity too large: limit is ${MAX_BODY_BYTES} bytes` : err.message);
  });

  const admission = opts.admission ?? inlineRunner();
  const inject = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const m = opts.metrics;
    m.injectionRequests.inc();
    const end = m.injectionTime.startTimer();
    try {
      const body = readBody(req);
      if (!body.ok) {
        m.injectionFailure.inc();
        return reply.code(body.status).type('text/plain; charset=utf-8').send(body.message);
      }
      const { review, outcome, logs } = await admission.inject(body.text, req.url.split('?')[0]!, opts.settingsFor);
      for (const l of logs) req.log[l.level](l.msg);
      if (outcome === 'failure') m.injectionFailure.inc();
      else if (outcome === 'skip') m.injectionSkip.inc();
      else m.injectionSuccess.inc();
      return sendJson(reply, serializeReview(review));
    } finally {
      end();
    }
  };
  const validate = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const m = opts.metrics;
    const body = readBody(req);
    if (!body.ok) {
      m.validationHTTPError.inc({ status: String(body.status) });
      return reply.code(body.status).type('text/plain; charset=utf-8').send(body.message);
    }
    const { review, metric, denial } = await admission.validate(body.text);
    if (metric.type === 'passed') m.validationPassed.inc(metric.labels);
    else if (metric.type === 'failed') m.validationFailed.inc({ ...metric.labels, reason: metric.reason });
    else if (metric.type === 'error') m.validationHTTPError.inc({ status: metric.status });
    if (denial) req.log.info({ kind: denial.kind, name: denial.name, namespace: denial.namespace, dryRun: denial.dryRun }, denial.message);
    return sendJson(reply, JSON.stringify(review));
  };
  app.post('/inject', inject);
  app.post('/inject/*', inject);
  app.post('/validate', validate);
  app.post('/validate/*', validate);
  return app;
}
