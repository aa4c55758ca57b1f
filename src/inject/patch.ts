import { isObj } from '../util/json.js';
// RFC 6902 patch from the original pod to the injected one. Objects are diffed key by key; an array
// that changed is replaced whole, which keeps patches short (injection rewrites most container lists)
// and, unlike a generic differ, copies nothing: the values are serialised right away.
export type PatchOp = { op: 'add' | 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };

/** JSON Pointer escaping (RFC 6901). */
function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function sameJSON(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJSON(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !sameJSON((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

export function createPatch(from: unknown, to: unknown): PatchOp[] {
  const ops: PatchOp[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(a: unknown, b: unknown, path: string, ops: PatchOp[]): void {
  if (isObj(a) && isObj(b)) {
    for (const k of Object.keys(a)) {
      if (!Object.prototype.hasOwnProperty.call(b, k) || b[k] === undefined) {
        if (a[k] !== undefined) ops.push({ op: 'remove', path: `${path}/${escape(k)}` });
      }
    }
    for (const k of Object.keys(b)) {
      const bv = b[k];
      if (bv === undefined) continue;
      const p = `${path}/${escape(k)}`;
      if (!Object.prototype.hasOwnProperty.call(a, k) || a[k] === undefined) ops.push({ op: 'add', path: p, value: bv });
      else diff(a[k], bv, p, ops);
    }
    return;
  }
  if (!sameJSON(a, b)) ops.push({ op: 'replace', path, value: b });
}
