// The HTTPS admission webhook server (istiod's :15017). Transport rules follow istiod: bodies up to
// 6 MiB, an empty or oversized body is HTTP 400, a Content-Type other than exactly application/json is
// HTTP 415, and anything that reaches the handler gets an AdmissionReview answer.
import type { SecureContextOptions } from 'node:tls';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { reviewInjection, type SettingsProvider } from '../inject/review.js';
import { reviewValidation } from '../validation/review.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { AdmissionReview } from '../types.js';
import { decodeReview, denied, encodeReview } from './admission.js';
import { tlsServerOptions, type TlsMinVersion } from '../net/tls-policy.js';

/** istio pkg/kube/util.go MaxRequestBodyBytes. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Kubernetes objects are shallow; anything deeper is hostile or broken. */
export const MAX_JSON_DEPTH = 200;

export interface WebhookAppOptions {
  logger: Logger;
  metrics: Metrics;
  settingsFor: SettingsProvider;
  tls: SecureContextOptions & { key: string; cert: string };
  /** --tls-min-version (istiod's): 1.2 or 1.3. */
  tlsMinVersion?: TlsMinVersion;
  /** Whole-request deadline, so slow-drip clients cannot hold connections. */
  requestTimeoutMs?: number;
}

/**
 * Deepest nesting of objects and arrays in JSON text, read from the raw bytes before parsing (one pass, no
 * allocation; brackets inside strings do not count). Stops counting once past `limit`.
 */
export function jsonNesting(raw: Buffer, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
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

type Body = { ok: true; value: unknown; text: string } | { ok: false; status: number; message: string } | { ok: false; review: string };

/** Reads the request body as istiod does; returns the parsed JSON or why it is refused. */
function readBody(req: FastifyRequest): Body {
  const raw = req.body as Buffer | undefined;
  if (!raw || raw.length === 0) return { ok: false, status: 400, message: 'no body found' };
  if (req.headers['content-type'] !== 'application/json') return { ok: false, status: 415, message: 'invalid Content-Type, want `application/json`' };
  let value: unknown;
  const text = raw.toString('utf8');
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, review: `couldn't get version/kind; json parse error: ${(e as Error).message}` };
  }
  // Checked after parsing, so that malformed JSON gets the parser's message whatever its nesting.
  if (jsonNesting(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return { ok: false, review: `request body nests deeper than ${MAX_JSON_DEPTH} levels` };
  return { ok: true, value, text };
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

  const inject = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const m = opts.metrics;
    m.injectionRequests.inc();
    const end = m.injectionTime.startTimer();
    try {
      const body = readBody(req);
      if (!body.ok && 'status' in body) {
        m.injectionFailure.inc();
        return reply.code(body.status).type('text/plain; charset=utf-8').send(body.message);
      }
      if (!body.ok) {
        m.injectionFailure.inc();
        return encodeReview(decodeReview(undefined), denied(body.review));
      }
      const { review, outcome } = reviewInjection(body.value, req.url.split('?')[0]!, opts.settingsFor, {
        warn: (msg) => req.log.warn(msg),
        info: (msg) => req.log.debug(msg),
      }, body.text);
      if (outcome === 'failure') m.injectionFailure.inc();
      else if (outcome === 'skip') m.injectionSkip.inc();
      else m.injectionSuccess.inc();
      return reply.type('application/json; charset=utf-8').send(serializeReview(review));
    } finally {
      end();
    }
  };
  const validate = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const m = opts.metrics;
    const body = readBody(req);
    if (!body.ok && 'status' in body) {
      m.validationHTTPError.inc({ status: String(body.status) });
      return reply.code(body.status).type('text/plain; charset=utf-8').send(body.message);
    }
    if (!body.ok) {
      m.validationFailed.inc({ group: '', version: '', resource: '', reason: 'yaml_decode_error' });
      return encodeReview(decodeReview(undefined), denied(body.review));
    }
    const { review, verdict, request } = reviewValidation(body.value);
    if (verdict && request) {
      const labels = { group: request.resource?.group ?? '', version: request.resource?.version ?? '', resource: request.resource?.resource ?? '' };
      if (verdict.allowed) m.validationPassed.inc(labels);
      else if (!request.dryRun) m.validationFailed.inc({ ...labels, reason: verdict.reason ?? 'invalid_resource' });
      if (!verdict.allowed) req.log.info({ kind: verdict.kind, name: request.name, namespace: request.namespace, dryRun: request.dryRun === true }, verdict.message);
    }
    return review;
  };
  app.post('/inject', inject);
  app.post('/inject/*', inject);
  app.post('/validate', validate);
  app.post('/validate/*', validate);
  return app;
}
