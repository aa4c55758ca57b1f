// Pure comparison of two webhook answers to the same AdmissionReview, one from istiod and one from meshd.
//
// Normalisation (documented in README.md beside this file): JSON object key order is ignored (deep
// equality); nothing else is rewritten, because no field of an injected pod or of a validation verdict is
// random or time-dependent in either implementation for these inputs (the AdmissionReview uid is the same
// for both). A second, looser view applies Go's JSON round trip of a corev1.Pod to both patched pods
// (what the API server would store: empty objects/strings/zero ints of omitempty fields dropped,
// quantities canonical), to separate differences the API server erases from real ones.
import jsonpatch from 'fast-json-patch';
import { isDeepStrictEqual } from 'node:util';
import { diffPaths, goNormalize } from '../inject.js';

type Obj = Record<string, unknown>;

export interface AdmissionAnswer {
  allowed: boolean;
  message?: string;
  warnings: string[];
  /** The reviewed object with the answer's JSONPatch applied (injection only). */
  patched?: unknown;
  /** Why the answer could not be read (bad JSON, a patch that does not apply). */
  broken?: string;
}

/** Reads an AdmissionReview answer; with `object`, applies its patch to a copy of it. */
export function readAnswer(status: number, body: string, object?: unknown): AdmissionAnswer {
  if (status !== 200) return { allowed: false, warnings: [], broken: `HTTP ${status}: ${body.slice(0, 300)}` };
  let review: { response?: { allowed?: boolean; patch?: string; warnings?: string[]; status?: { message?: string } } };
  try {
    review = JSON.parse(body) as typeof review;
  } catch (e) {
    return { allowed: false, warnings: [], broken: `not JSON: ${(e as Error).message}` };
  }
  const r = review.response ?? {};
  const answer: AdmissionAnswer = { allowed: r.allowed === true, message: r.status?.message, warnings: [...(r.warnings ?? [])].sort() };
  if (object !== undefined) {
    let patched = structuredClone(object);
    if (r.patch) {
      try {
        const ops = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) as jsonpatch.Operation[];
        patched = jsonpatch.applyPatch(patched, ops, true, false).newDocument;
      } catch (e) {
        answer.broken = `patch does not apply: ${(e as Error).message}`;
      }
    }
    answer.patched = patched;
  }
  return answer;
}

export interface InjectionVerdict {
  identical: boolean;
  /** Equal after Go's corev1.Pod round trip (differences the API server would erase). */
  identicalAsStored: boolean;
  diffs: string[];
}

const podPart = (p: unknown): Obj => {
  const o = (p ?? {}) as Obj;
  return { metadata: o.metadata, spec: o.spec };
};

/** Compares meshd's injection with istiod's; `diffs` name each field path with meshd's value (got) and istiod's (want). */
export function compareInjection(meshd: AdmissionAnswer, istiod: AdmissionAnswer): InjectionVerdict {
  const head: string[] = [];
  if (meshd.broken || istiod.broken) head.push(`broken: meshd ${meshd.broken ?? 'ok'}; istiod ${istiod.broken ?? 'ok'}`);
  if (meshd.allowed !== istiod.allowed) head.push(`allowed: got ${meshd.allowed} want ${istiod.allowed} (${istiod.message ?? meshd.message ?? ''})`);
  const diffs = [...head, ...diffPaths(podPart(meshd.patched), podPart(istiod.patched))];
  const stored = head.length === 0 && isDeepStrictEqual(goNormalize(podPart(meshd.patched)), goNormalize(podPart(istiod.patched)));
  return { identical: diffs.length === 0, identicalAsStored: diffs.length === 0 || stored, diffs };
}

export interface ValidationVerdict {
  agree: boolean;
  /** The messages of two denials differ (reported, not scored: istiod's wording is not an API). */
  messageDiffers: boolean;
  diffs: string[];
}

/** Compares verdict (allowed or denied) and warnings. */
export function compareValidation(meshd: AdmissionAnswer, istiod: AdmissionAnswer): ValidationVerdict {
  const diffs: string[] = [];
  if (meshd.broken || istiod.broken) diffs.push(`broken: meshd ${meshd.broken ?? 'ok'}; istiod ${istiod.broken ?? 'ok'}`);
  if (meshd.allowed !== istiod.allowed) {
    diffs.push(`allowed: got ${meshd.allowed} want ${istiod.allowed}; meshd: ${meshd.message ?? ''}; istiod: ${istiod.message ?? ''}`);
  }
  if (!isDeepStrictEqual(meshd.warnings, istiod.warnings)) diffs.push(`warnings: got ${JSON.stringify(meshd.warnings)} want ${JSON.stringify(istiod.warnings)}`);
  const messageDiffers = !meshd.allowed && !istiod.allowed && meshd.message !== istiod.message;
  return { agree: diffs.length === 0, messageDiffers, diffs };
}

/** Groups difference lines into classes: the field path with indices and map keys of containers generalised. */
export function diffClass(line: string): string {
  const path = line.split(':')[0]!;
  return path.replace(/\[\d+\]/g, '[]');
}
