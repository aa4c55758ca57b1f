// The admission work proper, from a request body's text to its answer: the same functions run in an
// admission worker (admission-worker.ts) and inline (the offline CLI, tests). Transport rules (body size,
// content type) stay with the HTTP server; everything that can take time on a hostile body is here.
import { prepareInjection, type PreparedInjection } from '../inject/review.js';
import type { AdmissionReview } from '../types.js';
import { reviewValidation } from '../validation/review.js';
import { decodeReview, denied, encodeReview } from './admission.js';

/** Kubernetes objects are shallow; anything deeper is hostile or broken. */
export const MAX_JSON_DEPTH = 200;

/**
 * Deepest nesting of objects and arrays in JSON text (its UTF-8 bytes or its characters: the brackets,
 * quotes and backslashes counted are ASCII either way), in one pass without allocating; brackets inside
 * strings do not count. Stops counting once past `limit`.
 */
export function jsonNesting(raw: Buffer | string, limit: number): number {
  const at = typeof raw === 'string' ? (i: number): number => raw.charCodeAt(i) : (i: number): number => raw[i]!;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

export type ParsedBody = { ok: true; value: unknown } | { ok: false; message: string };

/** The body's JSON as istiod reads it: malformed JSON gets the parser's message whatever its nesting. */
export function parseBody(text: string): ParsedBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `couldn't get version/kind; json parse error: ${(e as Error).message}` };
  }
  if (jsonNesting(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return { ok: false, message: `request body nests deeper than ${MAX_JSON_DEPTH} levels` };
  return { ok: true, value };
}

/** What the main thread records for a validation: istiod's galley_validation_* counters, and a log of denials. */
export type ValidationMetric =
  | { type: 'passed'; labels: ResourceLabels }
  | { type: 'failed'; labels: ResourceLabels; reason: string }
  | { type: 'none' }
  /** The pool gave no answer (deadline, overload): counted as galley_validation_http_error with this code. */
  | { type: 'error'; status: string };

export interface ResourceLabels {
  group: string;
  version: string;
  resource: string;
}

export interface ValidationAnswer {
  review: AdmissionReview;
  metric: ValidationMetric;
  denial?: { kind: string; name?: string; namespace?: string; dryRun: boolean; message?: string };
}

export function validationAnswer(text: string): ValidationAnswer {
  const body = parseBody(text);
  if (!body.ok) {
    return { review: encodeReview(decodeReview(undefined), denied(body.message)), metric: { type: 'failed', labels: { group: '', version: '', resource: '' }, reason: 'yaml_decode_error' } };
  }
  const { review, verdict, request } = reviewValidation(body.value);
  if (!verdict || !request) return { review, metric: { type: 'none' } };
  const labels = { group: request.resource?.group ?? '', version: request.resource?.version ?? '', resource: request.resource?.resource ?? '' };
  if (verdict.allowed) return { review, metric: { type: 'passed', labels } };
  const denial = { kind: verdict.kind, name: request.name, namespace: request.namespace, dryRun: request.dryRun === true, message: verdict.message };
  return { review, metric: request.dryRun ? { type: 'none' } : { type: 'failed', labels, reason: verdict.reason ?? 'invalid_resource' }, denial };
}

/** The first step of an injection: parse and check the envelope. */
export function startInjection(text: string): PreparedInjection {
  const body = parseBody(text);
  if (!body.ok) return { answer: { review: encodeReview(decodeReview(undefined), denied(body.message)), outcome: 'failure' } };
  return prepareInjection(body.value);
}
