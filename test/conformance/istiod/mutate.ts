// Generated Istio objects for the validation comparison: each corpus object with one seeded mutation of
// its spec (a field removed, a value swapped for one of the kind of values validators trip on, an unknown
// field, an array element repeated, a name's letters in other case), giving valid, near-valid and invalid
// objects of every kind the corpus has. Pure and deterministic: the same seed gives the same objects.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** mulberry32: a small seeded PRNG, so runs are repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REPLACEMENTS: Json[] = [
  '', '*', '-', 'x'.repeat(300), 'not a duration', '1.5s', '0s', '-1s', '10.0.0.0/33', '::1/129', 'a.b', '*.example.com',
  'UNKNOWN_ENUM', -1, 0, 1, 65536, 4294967296, 0.5, true, false, null, [], {}, ['*'], { bogus: 1 },
];

type Step = string | number;

/** Every path under `v` (objects and arrays included), as steps from `v`. */
function paths(v: Json, prefix: Step[] = []): Step[][] {
  const out: Step[][] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...prefix, i], ...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push([...prefix, k], ...paths(x, [...prefix, k]));
  return out;
}

function parentOf(root: Json, path: Step[]): Json {
  let cur = root;
  for (const s of path.slice(0, -1)) cur = (cur as Record<string, Json>)[s as string] as Json;
  return cur;
}

export interface Mutant {
  object: Record<string, unknown>;
  /** What was done, for the report: `spec.http[0].route: replaced with -1`. */
  change: string;
}

/** One mutation of `object.spec`, chosen by `rand`. */
export function mutate(object: Record<string, unknown>, rand: () => number): Mutant {
  const copy = structuredClone(object) as Record<string, Json>;
  const spec = (copy.spec ??= {}) as Json;
  const all = paths(spec);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const op = all.length === 0 ? 'add' : pick(['delete', 'replace', 'replace', 'replace', 'add', 'repeat', 'recase'] as const);
  if (op === 'add') {
    const objects = [[] as Step[], ...all].filter((p) => {
      const v = p.length === 0 ? spec : (parentOf(spec, [...p, 0]) as Json);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const at = pick(objects);
    const target = (at.length === 0 ? spec : parentOf(spec, [...at, 0])) as Record<string, Json>;
    target.bogusField = pick(REPLACEMENTS);
    return { object: copy, change: `spec${fmt(at)}.bogusField: added` };
  }
  const path = pick(all);
  const parent = parentOf(spec, path) as Record<string, Json> & Json[];
  const last = path[path.length - 1]!;
  if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last as string];
    return { object: copy, change: `spec${fmt(path)}: removed` };
  }
  if (op === 'repeat') {
    const arrays = all.filter((p) => Array.isArray(parentOf(spec, [...p, 0])) && (parentOf(spec, [...p, 0]) as Json[]).length > 0);
    if (arrays.length > 0) {
      const at = pick(arrays);
      const arr = parentOf(spec, [...at, 0]) as Json[];
      arr.push(structuredClone(arr[0]!));
      return { object: copy, change: `spec${fmt(at)}: first element repeated` };
    }
  }
  if (op === 'recase') {
    // Istio's name checks accept either case (port `HTTP`, subset `V1`, namespace `Prod/*`): a string
    // with letters gets upper case throughout or on its first letter of each label.
    const strings = all.filter((p) => {
      const v = (parentOf(spec, p) as Record<string, Json>)[p[p.length - 1] as string];
      return typeof v === 'string' && /[a-z]/.test(v);
    });
    if (strings.length > 0) {
      const at = pick(strings);
      const holder = parentOf(spec, at) as Record<string, Json>;
      const key = at[at.length - 1] as string;
      holder[key] = recase(holder[key] as string, rand() < 0.5);
      return { object: copy, change: `spec${fmt(at)}: recased to ${JSON.stringify(holder[key]).slice(0, 40)}` };
    }
  }
  const value = pick(REPLACEMENTS);
  parent[last as string] = structuredClone(value);
  return { object: copy, change: `spec${fmt(path)}: replaced with ${JSON.stringify(value).slice(0, 40)}` };
}

/** `reviews.prod/v1` to `REVIEWS.PROD/V1` (all) or `Reviews.Prod/V1` (first letter of each label). */
export function recase(s: string, all: boolean): string {
  return all ? s.toUpperCase() : s.replace(/(^|[^A-Za-z0-9])([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

const fmt = (p: Step[]): string => p.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
