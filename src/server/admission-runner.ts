// Where the webhook's admission work runs: inline on the calling thread (tests, embedding) or in the
// admission worker pool (meshd serve). Both give the same answers; the main thread keeps the injection
// memo, looks up each pod's settings, and records the metrics from what comes back.
import {
  computeInjection,
  injectionAnswer,
  injectionKey,
  podNamespace,
  rememberedPatch,
  rememberPatch,
  type ComputedInjection,
  type InjectionOutcome,
  type PendingInjection,
  type PreparedInjection,
  type SettingsProvider,
} from '../inject/review.js';
import { parseInjectEnvs } from '../inject/url-params.js';
import type { AdmissionReview, InjectionSettings } from '../types.js';
import { decodeReview, denied, encodeReview } from './admission.js';
import { AdmissionPool, AdmissionPoolError, type AdmissionPoolOptions, type PooledWorker } from './admission-pool.js';
import { toWire } from './admission-settings.js';
import type { LogLine, WorkerRequest } from './admission-worker.js';
import { startInjection, validationAnswer, type ValidationAnswer } from './admission-work.js';

export interface InjectionReply {
  review: AdmissionReview;
  outcome: InjectionOutcome;
  logs: LogLine[];
}

export interface AdmissionRunner {
  inject(text: string, path: string, settingsFor: SettingsProvider): Promise<InjectionReply>;
  validate(text: string): Promise<ValidationAnswer>;
  /** Resolves when the runner can take reviews without waiting for workers to start. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** The two halves of an injection, wherever they run. */
interface InjectionSteps {
  start(text: string): Promise<PreparedInjection>;
  compute(settings: InjectionSettings, logs: LogLine[]): Promise<ComputedInjection>;
  /** The injection was answered from the memo: the second half will not come. */
  release(): void;
}

/** One injection: the envelope checked, the pod's settings looked up, the memo consulted, the patch computed. */
async function injectWith(steps: InjectionSteps, text: string, path: string, settingsFor: SettingsProvider): Promise<InjectionReply> {
  const logs: LogLine[] = [];
  const prepared = await steps.start(text);
  if ('answer' in prepared) return { ...prepared.answer, logs };
  const p: PendingInjection = prepared.pending;
  let settings: InjectionSettings;
  try {
    settings = settingsFor(p.pod, podNamespace(p), parseInjectEnvs(path));
  } catch (e) {
    steps.release();
    const error = `Pod injection failed: internal error: ${(e as Error).message}`;
    return { ...injectionAnswer(p.envelope, { error }), logs: [{ level: 'warn', msg: error }] };
  }
  const key = injectionKey(settings, p, text);
  const known = rememberedPatch(key);
  if (known !== undefined) {
    steps.release();
    return { ...injectionAnswer(p.envelope, { patch: known }), logs };
  }
  const computed = await steps.compute(settings, logs);
  if (!('error' in computed)) rememberPatch(key, computed.patch);
  return { ...injectionAnswer(p.envelope, computed), logs };
}

export function inlineRunner(): AdmissionRunner {
  return {
    inject: (text, path, settingsFor) => {
      let pending: PendingInjection | undefined;
      return injectWith({
        start: async (t) => {
          const prepared = startInjection(t);
          if ('pending' in prepared) pending = prepared.pending;
          return prepared;
        },
        compute: async (settings, logs) => computeInjection(pending!, settings, {
          warn: (msg) => logs.push({ level: 'warn', msg }),
          info: (msg) => logs.push({ level: 'debug', msg }),
        }),
        release: () => undefined,
      }, text, path, settingsFor);
    },
    validate: async (text) => validationAnswer(text),
    ready: async () => undefined,
    close: async () => undefined,
  };
}

async function ask<R>(w: PooledWorker, m: WorkerRequest): Promise<R> {
  const reply = await w.call<R | { failed: string }>(m);
  if (reply && typeof reply === 'object' && 'failed' in reply) throw new AdmissionPoolError(`admission worker error: ${reply.failed}`, 500);
  return reply as R;
}

/** The review sent when the pool gave no answer (deadline, overload, a failed worker). */
function poolFailure(text: string, e: unknown): AdmissionReview {
  if (!(e instanceof AdmissionPoolError)) throw e;
  // The envelope is read without parsing the (possibly huge) body: only the uid and apiVersion are echoed.
  const uid = /"uid"\s*:\s*"([^"\\]{0,256})"/.exec(text.slice(0, 64 * 1024))?.[1] ?? '';
  const v1beta1 = /"apiVersion"\s*:\s*"admission\.k8s\.io\/v1beta1"/.test(text.slice(0, 64 * 1024));
  const decoded = decodeReview({ apiVersion: v1beta1 ? 'admission.k8s.io/v1beta1' : 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid } });
  return encodeReview(decoded, denied(e.message, e.code));
}

export type PooledRunnerOptions = AdmissionPoolOptions;

export function pooledRunner(opts: PooledRunnerOptions): AdmissionRunner {
  const pool = new AdmissionPool(opts);
  const held = (w: PooledWorker): Set<number> => {
    let s = w.state.get('settings') as Set<number> | undefined;
    if (!s) w.state.set('settings', (s = new Set()));
    return s;
  };
  return {
    inject: async (text, path, settingsFor) => {
      try {
        return await pool.session((w) => injectWith({
          start: (t) => ask<PreparedInjection>(w, { op: 'inject', text: t }),
          compute: async (settings, logs) => {
            const r = await ask<{ computed: ComputedInjection; logs: LogLine[] }>(w, { op: 'compute', settings: toWire(settings, held(w)) });
            logs.push(...r.logs);
            return r.computed;
          },
          release: () => w.post({ op: 'release' }),
        }, text, path, settingsFor), text.length);
      } catch (e) {
        const review = poolFailure(text, e);
        return { review, outcome: 'failure', logs: [{ level: 'warn', msg: review.response?.status?.message ?? '' }] };
      }
    },
    validate: async (text) => {
      try {
        return await pool.session((w) => ask<ValidationAnswer>(w, { op: 'validate', text }), text.length);
      } catch (e) {
        const review = poolFailure(text, e);
        const code = String((e as AdmissionPoolError).code);
        return { review, metric: { type: 'error', status: code } };
      }
    },
    ready: () => pool.ready(),
    close: () => pool.close(),
  };
}

/**
 * The pool's settings for `meshd serve`, from the environment: MESHD_ADMISSION_WORKERS (threads, default the
 * cores but 2 to 4), MESHD_ADMISSION_DEADLINE (per review, default 8s: under the API server's 10 s webhook
 * timeout, so the caller gets meshd's error rather than its own) and MESHD_ADMISSION_QUEUE (reviews waiting for a
 * worker, default 1024; at most 256 MiB of their bodies wait in any case).
 */
export function poolOptionsFromEnv(env: NodeJS.ProcessEnv, cores: number, durationMs: (v: string | undefined, def: number, name: string) => number): PooledRunnerOptions {
  const count = (name: string, def: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not "${v}"`);
    return n;
  };
  return {
    size: count('MESHD_ADMISSION_WORKERS', Math.max(2, Math.min(4, cores))),
    deadlineMs: durationMs(env.MESHD_ADMISSION_DEADLINE, 8_000, 'MESHD_ADMISSION_DEADLINE'),
    maxQueue: count('MESHD_ADMISSION_QUEUE', 1024),
    maxQueueBytes: 256 * 2 ** 20,
  };
}
