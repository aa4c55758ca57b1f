// One AdmissionReview through the injector: decode, inject, answer with a base64 JSONPatch or a denial
// (istio webhook.go serveInject/inject). Transport concerns (content type, body size) stay in the server.
import { decodeReview, denied, encodeReview, type DecodedReview } from '../server/admission.js';
import type { AdmissionRequest, AdmissionReview, InjectionSettings, Pod } from '../types.js';
import { injectPod, InjectionError } from './inject.js';
import { LruCache } from '../cache/lru.js';
import { identity } from './memo.js';
import { parseInjectEnvs } from './url-params.js';
import { isObj } from '../util/json.js';

export type InjectionOutcome = 'success' | 'skip' | 'failure';

/** Supplies the settings for one pod: config, values and mesh, plus the native-sidecar decision. */
export type SettingsProvider = (pod: Pod, namespace: string, proxyEnvs: Record<string, string>) => InjectionSettings;

export interface Logger {
  warn(msg: string): void;
  info(msg: string): void;
}

/** Answers (a base64 patch, or null for a skip) remembered for identical pods under identical settings. */
const answers = new LruCache<string | null>(4096, 64 * 1024 * 1024);

/** What an injection depends on besides the pod: the settings' identities and per-request values. */
function settingsKey(s: InjectionSettings, namespace: string): string {
  return [
    identity(s.config),
    identity(s.values),
    identity(s.mesh),
    s.revision,
    s.nativeSidecars,
    s.compliancePolicy,
    namespace,
    JSON.stringify(s.proxyEnvs),
    JSON.stringify(s.openshiftNamespaceAnnotations ?? null),
  ].join('|');
}

/**
 * The request body without the request's uid, prefixed by where it was: replicas of one workload arrive as
 * bodies that differ only there, and two bodies with equal keys differ at most in that uid. Cheaper
 * than re-serialising the pod. Without the exact `"uid":"..."` text the whole body is the key.
 */
function bodyKey(raw: string, uid: string): string {
  const needle = `"uid":${JSON.stringify(uid)}`;
  const at = raw.indexOf(needle);
  return at < 0 ? `-|${raw}` : `${at}|${raw.slice(0, at)}${raw.slice(at + needle.length)}`;
}

/** The parts of the request an injection needs once the review envelope has been checked. */
export interface PendingInjection {
  /** The review's apiVersion, kind and uid: all its answer needs. */
  envelope: DecodedReview;
  pod: Pod;
  /** The request's namespace, used when the pod has none yet. */
  namespace: string;
  uid: string;
}

/** An injection either answered from the envelope alone (a malformed review) or waiting for its settings. */
export type PreparedInjection = { answer: { review: AdmissionReview; outcome: InjectionOutcome } } | { pending: PendingInjection };

export function prepareInjection(body: unknown): PreparedInjection {
  const decoded = decodeReview(body);
  if (!decoded.ok) return { answer: { review: encodeReview(decoded, denied(decoded.message)), outcome: 'failure' } };
  const req = decoded.request;
  const obj = req.object;
  if (!isObj(obj) || (obj.metadata !== undefined && !isObj(obj.metadata)) || (obj.spec !== undefined && !isObj(obj.spec))) {
    return { answer: { review: encodeReview(decoded, denied('could not decode the request object as a Pod: expected a JSON object with metadata and spec')), outcome: 'failure' } };
  }
  const envelope: DecodedReview = { ok: true, apiVersion: decoded.apiVersion, kind: decoded.kind, request: { uid: req.uid } as AdmissionRequest };
  return { pending: { envelope, pod: obj as Pod, namespace: typeof req.namespace === 'string' ? req.namespace : '', uid: req.uid } };
}

/** The namespace a pod's settings are looked up for. */
export function podNamespace(p: PendingInjection): string {
  return p.pod.metadata?.namespace || p.namespace;
}

/** The memo key of an injection: settings identities and per-request values, then the body without its uid. */
export function injectionKey(settings: InjectionSettings, p: PendingInjection, raw: string): string {
  return `${settingsKey(settings, p.namespace)}|${bodyKey(raw, p.uid)}`;
}

/** A remembered answer: a base64 patch, null for a skip, undefined when not known. */
export function rememberedPatch(key: string): string | null | undefined {
  return answers.get(key);
}

export function rememberPatch(key: string, patch: string | null): void {
  answers.set(key, patch);
}

/** The injection itself: a base64 patch, or null for a skip; a denial is an error message. */
export type ComputedInjection = { patch: string | null } | { error: string };

export function computeInjection(p: PendingInjection, settings: InjectionSettings, log: Logger): ComputedInjection {
  try {
    const result = injectPod(p.pod, p.namespace, settings, (m) => log.warn(m));
    if (result.kind === 'skipped') log.info(`skipping injection: ${result.reason}`);
    return { patch: result.kind === 'skipped' ? null : Buffer.from(JSON.stringify(result.patch)).toString('base64') };
  } catch (e) {
    const message = e instanceof InjectionError ? `Pod injection failed: ${e.message}` : `Pod injection failed: internal error: ${(e as Error).message}`;
    log.warn(message);
    return { error: message };
  }
}

/** The review answering request `uid` of review `envelope` with a computed injection. */
export function injectionAnswer(envelope: DecodedReview, computed: ComputedInjection): { review: AdmissionReview; outcome: InjectionOutcome } {
  if ('error' in computed) return { review: encodeReview(envelope, denied(computed.error)), outcome: 'failure' };
  if (computed.patch === null) return { review: encodeReview(envelope, { allowed: true }), outcome: 'skip' };
  return { review: encodeReview(envelope, { allowed: true, patch: computed.patch, patchType: 'JSONPatch' }), outcome: 'success' };
}

/** `raw` is the text `body` was parsed from: it keys the memo. */
export function reviewInjection(body: unknown, path: string, settingsFor: SettingsProvider, log: Logger, raw: string): { review: AdmissionReview; outcome: InjectionOutcome } {
  const prepared = prepareInjection(body);
  if ('answer' in prepared) return prepared.answer;
  const p = prepared.pending;
  const envelope = p.envelope;
  let settings: InjectionSettings;
  try {
    settings = settingsFor(p.pod, podNamespace(p), parseInjectEnvs(path));
  } catch (e) {
    const message = `Pod injection failed: internal error: ${(e as Error).message}`;
    log.warn(message);
    return injectionAnswer(envelope, { error: message });
  }
  const key = injectionKey(settings, p, raw);
  const known = rememberedPatch(key);
  if (known !== undefined) return injectionAnswer(envelope, { patch: known });
  const computed = computeInjection(p, settings, log);
  if (!('error' in computed)) rememberPatch(key, computed.patch);
  return injectionAnswer(envelope, computed);
}
