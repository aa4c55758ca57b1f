// Go's built-in template functions and the part of sprig (Masterminds/sprig TxtFuncMap) that Helm-style
// injection templates use. Semantics follow the Go implementations, including their error cases.
import type { FuncMap } from './exec.js';
import { formatValue, goQuote, isMap, isStringMap, sprintf, truth, typeName } from './values.js';

type Kind = 'bool' | 'number' | 'string' | 'nil' | 'other';

function kindOf(v: unknown): Kind {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'other';
}

/** Go's eq: true if arg1 equals any later argument; comparing different basic kinds is an error. */
function eq(a: unknown, ...bs: unknown[]): boolean {
  if (bs.length === 0) throw new Error('missing argument for comparison');
  const ka = kindOf(a);
  for (const b of bs) {
    const kb = kindOf(b);
    if (ka !== kb) {
      if (ka !== 'nil' && kb !== 'nil') throw new Error('incompatible types for comparison');
      continue;
    }
    if (ka === 'other') throw new Error('non-comparable type');
    if (a === b || ka === 'nil') return true;
  }
  return false;
}

function ordered(a: unknown, b: unknown): number {
  const ka = kindOf(a);
  if (ka !== kindOf(b)) throw new Error('incompatible types for comparison');
  if (ka === 'number') return (a as number) - (b as number);
  if (ka === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  throw new Error('invalid type for comparison');
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new Error(`len of type ${typeName(v)}`);
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new Error(`cannot index slice/array with type ${typeName(k)}`);
      const len = Array.isArray(v) ? v.length : Buffer.byteLength(v);
      if (k < 0 || k >= len) throw new Error(`index out of range: ${k}`);
      v = Array.isArray(v) ? v[k] : Buffer.from(v)[k];
    } else if (isMap(v)) {
      const key = String(k);
      if (Object.prototype.hasOwnProperty.call(v, key)) v = v[key];
      else v = isStringMap(v) ? '' : null;
    } else if (v === undefined || v === null) {
      // Go: index of a nil map yields the element's zero value.
      v = null;
    } else throw new Error(`can't index item of type ${typeName(v)}`);
  }
  return v;
}

/** sprig's empty(): zero values and empty collections. */
export function empty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isMap(v)) return Object.keys(v).length === 0;
  return false;
}

/** sprig's strval / toString. */
function str(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  return typeof v === 'string' ? v : formatValue(v);
}

function toInt(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  }
  return 0;
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  return typeof v === 'boolean' ? (v ? 1 : 0) : 0;
}

function list(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null) return [];
  throw new Error(`Cannot ${fn} on type ${typeName(v)}`);
}

/** sprig's indent pads every line; Istio overrides it (see inject funcs) to skip the first. */
function padLines(spaces: number, s: string): string {
  const pad = ' '.repeat(Math.max(0, spaces));
  return pad + s.replace(/\n/g, '\n' + pad);
}

function trimCutset(s: string, cutset: string, left: boolean, right: boolean): string {
  const set = new Set(cutset);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (left && a < b && set.has(chars[a]!)) a++;
  while (right && b > a && set.has(chars[b - 1]!)) b--;
  return chars.slice(a, b).join('');
}

export const goBuiltins: FuncMap = {
  // and/or are evaluated lazily by the executor; these are the eager fallbacks it never calls.
  and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
  not: (a) => !truth(a),
  len: length,
  index,
  slice: (item, ...idx) => {
    const [i = 0, j] = idx.map((x) => toInt(x));
    if (typeof item === 'string') return item.slice(i, j);
    return list(item, 'slice').slice(i, j);
  },
  print: (...a) => a.map((x, i) => (i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '') + formatValue(x)).join(''),
  println: (...a) => a.map(formatValue).join(' ') + '\n',
  printf: (fmt, ...a) => sprintf(String(fmt), a),
  eq,
  ne: (a, b) => !eq(a, b),
  lt: (a, b) => ordered(a, b) < 0,
  le: (a, b) => ordered(a, b) <= 0,
  gt: (a, b) => ordered(a, b) > 0,
  ge: (a, b) => ordered(a, b) >= 0,
  html: (...a) => a.map(formatValue).join('').replace(/[&<>"'\0]/g, (c) => `&#${c.charCodeAt(0)};`),
  js: (...a) => JSON.stringify(a.map(formatValue).join('')).slice(1, -1),
  urlquery: (...a) => encodeURIComponent(a.map(formatValue).join('')),
  call: () => {
    throw new Error('call is not supported: template data holds no functions');
  },
};

export const sprigFuncs: FuncMap = {
  default: (def, ...given) => (given.length === 0 || empty(given[0]) ? def : given[0]),
  empty,
  coalesce: (...a) => a.find((x) => !empty(x)) ?? null,
  ternary: (t, f, c) => (truth(c) ? t : f),
  required: (msg, v) => {
    if (empty(v) && v !== false && v !== 0) throw new Error(String(msg));
    return v;
  },
  fail: (msg) => {
    throw new Error(String(msg));
  },
  list: (...a) => a,
  tuple: (...a) => a,
  append: (l, v) => [...list(l, 'append'), v],
  push: (l, v) => [...list(l, 'push'), v],
  prepend: (l, v) => [v, ...list(l, 'prepend')],
  first: (l) => list(l, 'first')[0] ?? null,
  last: (l) => {
    const x = list(l, 'last');
    return x[x.length - 1] ?? null;
  },
  rest: (l) => list(l, 'rest').slice(1),
  initial: (l) => list(l, 'initial').slice(0, -1),
  reverse: (l) => [...list(l, 'reverse')].reverse(),
  uniq: (l) => [...new Set(list(l, 'uniq'))],
  compact: (l) => list(l, 'compact').filter((x) => !empty(x)),
  has: (needle, l) => list(l, 'has').includes(needle),
  without: (l, ...omit) => list(l, 'without').filter((x) => !omit.includes(x)),
  until: (n) => Array.from({ length: Math.max(0, toInt(n)) }, (_, i) => i),
  untilStep: (start, stop, step) => {
    const out: number[] = [];
    const [a, b, s] = [toInt(start), toInt(stop), toInt(step)];
    if (s === 0) return out;
    for (let i = a; s > 0 ? i < b : i > b; i += s) out.push(i);
    return out;
  },
  dict: (...a) => {
    const d: Record<string, unknown> = {};
    for (let i = 0; i < a.length; i += 2) d[str(a[i])] = i + 1 < a.length ? a[i + 1] : '';
    return d;
  },
  get: (d, k) => (isMap(d) && Object.prototype.hasOwnProperty.call(d, str(k)) ? d[str(k)] : ''),
  set: (d, k, v) => {
    if (!isMap(d)) throw new Error('set needs a map');
    d[str(k)] = v;
    return d;
  },
  unset: (d, k) => {
    if (isMap(d)) delete d[str(k)];
    return d;
  },
  hasKey: (d, k) => isMap(d) && Object.prototype.hasOwnProperty.call(d, str(k)),
  keys: (...ds) => ds.flatMap((d) => (isMap(d) ? Object.keys(d) : [])),
  values: (d) => (isMap(d) ? Object.values(d) : []),
  pick: (d, ...ks) => Object.fromEntries(Object.entries(isMap(d) ? d : {}).filter(([k]) => ks.includes(k))),
  omit: (d, ...ks) => Object.fromEntries(Object.entries(isMap(d) ? d : {}).filter(([k]) => !ks.includes(k))),
  merge: (dst, ...srcs) => {
    const out = isMap(dst) ? dst : {};
    for (const s of srcs) if (isMap(s)) for (const [k, v] of Object.entries(s)) if (!(k in out)) out[k] = v;
    return out;
  },
  deepCopy: (v) => structuredClone(v),
  toString: str,
  toStrings: (l) => list(l, 'toStrings').map(str),
  int: toInt,
  int64: toInt,
  float64: toFloat,
  atoi: (s) => toInt(s),
  add: (...a) => a.reduce<number>((x, y) => x + toInt(y), 0),
  add1: (a) => toInt(a) + 1,
  sub: (a, b) => toInt(a) - toInt(b),
  mul: (...a) => a.reduce<number>((x, y) => x * toInt(y), 1),
  div: (a, b) => {
    if (toInt(b) === 0) throw new Error('integer divide by zero');
    return Math.trunc(toInt(a) / toInt(b));
  },
  mod: (a, b) => {
    if (toInt(b) === 0) throw new Error('integer divide by zero');
    return toInt(a) % toInt(b);
  },
  max: (...a) => Math.max(...a.map(toInt)),
  min: (...a) => Math.min(...a.map(toInt)),
  quote: (...a) => a.filter((x) => x !== undefined && x !== null).map((x) => goQuote(str(x))).join(' '),
  squote: (...a) => a.filter((x) => x !== undefined && x !== null).map((x) => `'${str(x)}'`).join(' '),
  cat: (...a) => a.filter((x) => x !== undefined && x !== null).map(str).join(' '),
  upper: (s) => str(s).toUpperCase(),
  lower: (s) => str(s).toLowerCase(),
  title: (s) => str(s).replace(/(^|[\s])(\p{L})/gu, (_, sp: string, c: string) => sp + c.toUpperCase()),
  trim: (s) => str(s).trim(),
  trimAll: (cut, s) => trimCutset(str(s), str(cut), true, true),
  trimPrefix: (p, s) => (str(s).startsWith(str(p)) ? str(s).slice(str(p).length) : str(s)),
  trimSuffix: (p, s) => (str(s).endsWith(str(p)) && str(p) !== '' ? str(s).slice(0, -str(p).length) : str(s)),
  trunc: (n, s) => {
    const c = toInt(n);
    const v = str(s);
    if (c < 0 && -c < v.length) return v.slice(v.length + c);
    if (c >= 0 && v.length > c) return v.slice(0, c);
    return v;
  },
  contains: (sub, s) => str(s).includes(str(sub)),
  hasPrefix: (p, s) => str(s).startsWith(str(p)),
  hasSuffix: (p, s) => str(s).endsWith(str(p)),
  replace: (old, nw, s) => str(s).split(str(old)).join(str(nw)),
  repeat: (n, s) => str(s).repeat(Math.max(0, Math.min(toInt(n), 1 << 20))),
  split: (sep, s) => Object.fromEntries(str(s).split(str(sep)).map((p, i) => [`_${i}`, p])),
  splitList: (sep, s) => str(s).split(str(sep)),
  join: (sep, l) => (typeof l === 'string' ? l : list(l, 'join').map(str).join(str(sep))),
  indent: (n, s) => padLines(toInt(n), str(s)),
  nindent: (n, s) => '\n' + padLines(toInt(n), str(s)),
  nospace: (s) => str(s).replace(/\s/g, ''),
  regexMatch: (re, s) => new RegExp(str(re)).test(str(s)),
  regexFind: (re, s) => new RegExp(str(re)).exec(str(s))?.[0] ?? '',
  regexReplaceAll: (re, s, repl) => str(s).replace(new RegExp(str(re), 'g'), str(repl).replace(/\$\{?(\d+)\}?/g, '$$$1')),
  b64enc: (s) => Buffer.from(str(s), 'utf8').toString('base64'),
  b64dec: (s) => Buffer.from(str(s), 'base64').toString('utf8'),
  toJson: (v) => JSON.stringify(v ?? null),
  toPrettyJson: (v) => JSON.stringify(v ?? null, null, 2),
  fromJson: (s) => {
    try {
      return JSON.parse(str(s)) as unknown;
    } catch {
      return {};
    }
  },
  kindOf: (v) => (Array.isArray(v) ? 'slice' : isMap(v) ? 'map' : kindOf(v) === 'number' ? 'float64' : kindOf(v) === 'nil' ? 'invalid' : kindOf(v)),
  typeOf: typeName,
  kindIs: (k, v) => sprigFuncs.kindOf!(v) === k,
  semverCompare: () => {
    throw new Error('semverCompare is not supported by meshd templates');
  },
};
