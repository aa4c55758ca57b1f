// One AdmissionReview through the injector: decode, inject, answer with a base64 JSONPatch or a denial
// (istio webhook.go serveInject/inject). Transport concerns (content type, body size) stay in the server.
import { decodeReview, denied, encodeReview } from '../server/admission.js';
import type { AdmissionReview, InjectionSettings, Pod } from '../types.js';
import { injectPod, InjectionError } from './inject.js';
import { LruCache } from '../cache/lru.js';
import { identity } from './memo.js';
import { parseInjectEnvs } from './url-params.js';

export type InjectionOutcome = 'success' | 'skip' | 'failure';

/** Supplies the settings for one pod: config, values and mesh, plus the native-sidecar decision. */
export type SettingsProvider = (pod: Pod, namespace: string, proxyEnvs: Record<string, string>) => InjectionSettings;

export interface Logger {
  warn(msg: string): void;
  info(msg: string): void;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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

/** `raw` is the text `body` was parsed from: it keys the memo. */
export function reviewInjection(body: unknown, path: string, settingsFor: SettingsProvider, log: Logger, raw: string): { review: AdmissionReview; outcome: InjectionOutcome } {
  const decoded = decodeReview(body);
  if (!decoded.ok) return { review: encodeReview(decoded, denied(decoded.message)), outcome: 'failure' };
  const req = decoded.request;
  const obj = req.object;
  if (!isObj(obj) || (obj.metadata !== undefined && !isObj(obj.metadata)) || (obj.spec !== undefined && !isObj(obj.spec))) {
    return { review: encodeReview(decoded, denied('could not decode the request object as a Pod: expected a JSON object with metadata and spec')), outcome: 'failure' };
  }
  try {
    const pod = obj as Pod;
    const namespace = typeof req.namespace === 'string' ? req.namespace : '';
    const settings = settingsFor(pod, pod.metadata?.namespace || namespace, parseInjectEnvs(path));
    const key = `${settingsKey(settings, namespace)}|${bodyKey(raw, req.uid)}`;
    let patch = answers.get(key);
    if (patch === undefined) {
      const result = injectPod(pod, namespace, settings, (m) => log.warn(m));
      patch = result.kind === 'skipped' ? null : Buffer.from(JSON.stringify(result.patch)).toString('base64');
      if (result.kind === 'skipped') log.info(`skipping injection: ${result.reason}`);
      answers.set(key, patch);
    }
    if (patch === null) return { review: encodeReview(decoded, { allowed: true }), outcome: 'skip' };
    return { review: encodeReview(decoded, { allowed: true, patch, patchType: 'JSONPatch' }), outcome: 'success' };
  } catch (e) {
    const message = e instanceof InjectionError ? `Pod injection failed: ${e.message}` : `Pod injection failed: internal error: ${(e as Error).message}`;
    log.warn(message);
    return { review: encodeReview(decoded, denied(message)), outcome: 'failure' };
  }
}
