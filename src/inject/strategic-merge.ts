import { isObj } from '../util/json.js';
// Kubernetes strategic merge patch for Pods (k8s.io/apimachinery strategicpatch, with the options istiod
// uses: parallel list merge and ignored unmatched nulls). Merge keys come from the core/v1 struct tags;
// lists without a merge strategy are replaced, maps are merged, nulls delete. Item order follows
// apimachinery's normalizeElementOrder: patch items keep the patch's order and go before server-only
// items that come later in the original list.

type Obj = Record<string, unknown>;

interface ListRule {
  /** Merge key for lists of maps; '' for lists of primitives merged as sets. */
  key: string;
  item?: TypeName;
}

type TypeName = 'Pod' | 'ObjectMeta' | 'PodSpec' | 'Container' | 'Volume' | 'Plain';

interface TypeSchema {
  fields: Record<string, TypeName>;
  lists: Record<string, ListRule>;
}

const SCHEMA: Record<TypeName, TypeSchema> = {
  Pod: { fields: { metadata: 'ObjectMeta', spec: 'PodSpec' }, lists: {} },
  ObjectMeta: {
    fields: {},
    lists: { ownerReferences: { key: 'uid' }, finalizers: { key: '' } },
  },
  PodSpec: {
    fields: {},
    lists: {
      containers: { key: 'name', item: 'Container' },
      initContainers: { key: 'name', item: 'Container' },
      ephemeralContainers: { key: 'name', item: 'Container' },
      volumes: { key: 'name', item: 'Volume' },
      imagePullSecrets: { key: 'name' },
      hostAliases: { key: 'ip' },
      topologySpreadConstraints: { key: 'topologyKey' },
      resourceClaims: { key: 'name' },
      schedulingGates: { key: 'name' },
    },
  },
  Container: {
    fields: {},
    lists: {
      ports: { key: 'containerPort' },
      env: { key: 'name' },
      volumeMounts: { key: 'mountPath' },
      volumeDevices: { key: 'devicePath' },
    },
  },
  Volume: { fields: {}, lists: {} },
  Plain: { fields: {}, lists: {} },
};

const DIRECTIVE = '$patch';
/** Keys that would reach Object.prototype if assigned; never valid in Kubernetes objects. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder/';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';

export class StrategicMergeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrategicMergeError';
  }
}

function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX);
}

/** Removes nulls and patch directives from a value taken from a patch (Go drops them on decode). */
export function cleanPatchValue(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.filter((x) => !(isObj(x) && typeof x[DIRECTIVE] === 'string')).map(cleanPatchValue);
  }
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (UNSAFE_KEYS.has(k) || x === null || isDirectiveKey(k)) continue;
      out[k] = cleanPatchValue(x);
    }
    return out;
  }
  return v;
}

/** cleanPatchValue for a patch the caller gives away: cleans in place instead of copying. */
function cleanOwnedValue(v: unknown): unknown {
  if (Array.isArray(v)) {
    let n = 0;
    for (const x of v) if (!(isObj(x) && typeof x[DIRECTIVE] === 'string')) v[n++] = cleanOwnedValue(x);
    v.length = n;
    return v;
  }
  if (isObj(v)) {
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (UNSAFE_KEYS.has(k) || x === null || isDirectiveKey(k)) delete v[k];
      else v[k] = cleanOwnedValue(x);
    }
    // A JSON "__proto__" key is an own property; delete above removed it without touching the prototype.
    return v;
  }
  return v;
}

/**
 * Applies `patch` to a Pod. `original` is not modified. With `ownPatch` the caller gives the patch away:
 * its values are moved into the result instead of copied (a rendered template is used once).
 */
export function strategicMergePod(original: Obj, patch: Obj, ownPatch = false): Obj {
  return mergeMap(structuredClone(original), patch, 'Pod', ownPatch ? cleanOwnedValue : cleanPatchValue);
}

type Cleaner = (v: unknown) => unknown;

function mergeMap(original: Obj, patch: Obj, type: TypeName, clean: Cleaner): Obj {
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') return clean(patch) as Obj;
  if (directive === 'delete') return {};
  if (directive !== undefined && directive !== 'merge') throw new StrategicMergeError(`unknown patch type: ${String(directive)}`);
  const schema = SCHEMA[type];
  const retain = patch[RETAIN_KEYS];

  for (const [k, pv] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX)) continue;
    if (UNSAFE_KEYS.has(k)) continue;
    if (k.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      const target = k.slice(DELETE_PRIMITIVE_PREFIX.length);
      const cur = original[target];
      if (Array.isArray(cur) && Array.isArray(pv)) {
        const drop = new Set(pv);
        original[target] = cur.filter((x) => !drop.has(x));
      }
      continue;
    }
    if (pv === null) {
      delete original[k];
      continue;
    }
    const ov = original[k];
    if (ov === undefined || ov === null) {
      original[k] = clean(pv);
      continue;
    }
    if (Array.isArray(ov) && Array.isArray(pv)) {
      const rule = schema.lists[k];
      original[k] = rule ? mergeList(ov, pv, rule, clean) : (clean(pv) as unknown[]);
    } else if (isObj(ov) && isObj(pv)) {
      original[k] = mergeMap(ov, pv, schema.fields[k] ?? 'Plain', clean);
    } else {
      original[k] = clean(pv);
    }
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain);
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }
  return original;
}

function keyOf(item: unknown, key: string): unknown {
  return isObj(item) ? item[key] : undefined;
}

function mergeList(original: unknown[], patch: unknown[], rule: ListRule, clean: Cleaner): unknown[] {
  // List-level directives: {$patch: replace} replaces the list; {$patch: delete, key: v} removes items.
  if (patch.some((x) => isObj(x) && x[DIRECTIVE] === 'replace')) {
    return clean(patch.filter((x) => !(isObj(x) && x[DIRECTIVE] === 'replace'))) as unknown[];
  }
  let merged = [...original];
  const deletes = patch.filter((x) => isObj(x) && x[DIRECTIVE] === 'delete');
  if (deletes.length > 0) {
    const deleted = new Set(deletes.map((d) => keyOf(d, rule.key)));
    merged = merged.filter((x) => !deleted.has(keyOf(x, rule.key)));
  }
  const items = patch.filter((x) => !(isObj(x) && typeof x[DIRECTIVE] === 'string'));

  // Lookups by key (or by value for primitive lists) keep large lists linear; a key's first item wins.
  if (rule.key === '') {
    const present = new Set(merged);
    for (const p of items) {
      if (!present.has(p)) {
        merged.push(p);
        present.add(p);
      }
    }
    return normalizeOrder(merged, items, original, (x) => x);
  }
  const at = new Map<unknown, number>();
  merged.forEach((x, i) => {
    const k = keyOf(x, rule.key);
    if (!at.has(k)) at.set(k, i);
  });
  for (const p of items) {
    if (!isObj(p)) throw new StrategicMergeError(`list item without merge key "${rule.key}": ${JSON.stringify(p)}`);
    const k = p[rule.key];
    if (k === undefined) throw new StrategicMergeError(`map: ${JSON.stringify(p)} does not contain declared merge key: ${rule.key}`);
    const idx = at.get(k) ?? -1;
    // Items of `merged` belong to the copy strategicMergePod made, so they can be changed in place.
    if (idx >= 0 && isObj(merged[idx])) merged[idx] = mergeMap(merged[idx] as Obj, p, rule.item ?? 'Plain', clean);
    else {
      if (idx < 0) at.set(k, merged.length);
      merged.push(clean(p));
    }
  }
  return normalizeOrder(merged, items, original, (x) => keyOf(x, rule.key));
}

/**
 * apimachinery's normalizeElementOrder: items named by the patch, in patch order, interleaved with
 * server-only items in original order; a patch item goes first when its index in the original is lower
 * (new items have index -1, so they precede the next server-only item).
 */
function normalizeOrder(merged: unknown[], patch: unknown[], original: unknown[], id: (x: unknown) => unknown): unknown[] {
  // indexOf semantics (first occurrence, -1 when absent) from maps built once.
  const firstIndex = (list: unknown[]): Map<unknown, number> => {
    const m = new Map<unknown, number>();
    list.forEach((x, i) => {
      const k = id(x);
      if (!m.has(k)) m.set(k, i);
    });
    return m;
  };
  const patchAt = firstIndex(patch);
  const originalAt = firstIndex(original);
  const inOriginal = (x: unknown): number => originalAt.get(id(x)) ?? -1;
  const inPatch = merged.filter((x) => patchAt.has(id(x)));
  const serverOnly = merged.filter((x) => !patchAt.has(id(x)));
  inPatch.sort((a, b) => patchAt.get(id(a))! - patchAt.get(id(b))!);
  serverOnly.sort((a, b) => inOriginal(a) - inOriginal(b));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < inPatch.length && j < serverOnly.length) {
    if (inOriginal(inPatch[i]) < inOriginal(serverOnly[j])) out.push(inPatch[i++]);
    else out.push(serverOnly[j++]);
  }
  return out.concat(inPatch.slice(i), serverOnly.slice(j));
}
