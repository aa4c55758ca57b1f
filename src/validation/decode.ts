// The parts of istiod's spec decoding (legacy jsonpb) that produce errors: Go durations, enum names and
// numbers. Validators call these while reading a field; a failure means the object never decoded, which
// istiod reports as "error decoding configuration: ...", ahead of any validation error.

export class DecodeError extends Error {}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(input: string): number {
  const bad = (): never => {
    throw new DecodeError(`bad Duration: time: invalid duration "${input}"`);
  };
  let s = input;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') bad();
  let total = 0;
  while (s.length > 0) {
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[3] ?? '') === '')) bad();
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new DecodeError(`bad Duration: time: missing unit in duration "${input}"`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new DecodeError(`bad Duration: time: unknown unit "${u[0]}" in duration "${input}"`);
    s = s.slice(u[0].length);
    total += Number(`${m[1] || '0'}.${m[3] || '0'}`) * unit;
  }
  return neg ? -total : total;
}

/** A google.protobuf.Duration field: undefined when unset, else nanoseconds. */
export function duration(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new DecodeError(`bad Duration: expected a string, got ${JSON.stringify(v)}`);
  return parseGoDuration(v);
}

/** An enum field: a name from `names` or any integer (jsonpb does not range-check numbers). */
export function enumValue(v: unknown, names: readonly string[], fullName: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') {
    if (names.includes(v)) return v;
    throw new DecodeError(`unknown value ${JSON.stringify(v)} for enum ${fullName}`);
  }
  // A number (or anything else) decodes as an int32 protoreflect.EnumNumber.
  const n = goJSONNumber(JSON.stringify(v), 'int32', 'protoreflect.EnumNumber');
  return names[n] ?? String(n);
}

/** istio ValidateDuration: at least 1ms and whole milliseconds. */
export function durationError(ns: number | undefined): string | undefined {
  if (ns === undefined) return undefined;
  if (ns < 1e6) return 'duration must be greater than 1ms';
  if (ns % 1e6 !== 0) return 'only durations to ms precision are supported';
  return undefined;
}

// Numbers. Legacy jsonpb reads an integer or floating-point field (and its wrapper types) by stripping the
// quotes off a JSON string, not unescaping it, and handing the rest to encoding/json: `80` and `"80"` are
// port 80, `"http"`, `80.5`, `-1` (unsigned) or `true` fail to decode. The messages are encoding/json's.

export type GoNumberType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

const RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const WHITESPACE = ' \t\n\r';
const quoteChar = (c: string): string => (c === "'" ? "'\\''" : `'${c}'`);

type Scanned = { kind: 'number'; literal: string } | { kind: 'bool' | 'null' | 'string' | 'array' | 'object' };

/** encoding/json's scanner over one value: what it is, or its syntax error (a DecodeError). */
function scanJSONValue(text: string): Scanned {
  let i = 0;
  const at = (): string => (i < text.length ? text[i]! : ' '); // end of input reads as a space, as in Go
  const fail = (what: string): never => {
    throw new DecodeError(`invalid character ${quoteChar(at())} ${what}`);
  };
  const skip = (): void => {
    while (i < text.length && WHITESPACE.includes(text[i]!)) i++;
  };
  skip();
  if (i >= text.length) throw new DecodeError('unexpected end of JSON input');
  const start = i;
  const c = text[i]!;
  let result: Scanned;
  if (c === '-' || (c >= '0' && c <= '9')) {
    const digit = (): boolean => at() >= '0' && at() <= '9';
    if (c === '-') {
      i++;
      if (!digit()) fail('in numeric literal');
    }
    if (at() === '0') i++;
    else while (digit()) i++;
    if (at() === '.') {
      i++;
      if (!digit()) fail('after decimal point in numeric literal');
      while (digit()) i++;
    }
    if (at() === 'e' || at() === 'E') {
      i++;
      if (at() === '+' || at() === '-') i++;
      if (!digit()) fail('in exponent of numeric literal');
      while (digit()) i++;
    }
    result = { kind: 'number', literal: text.slice(start, i) };
  } else if (c === 't' || c === 'f' || c === 'n') {
    const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
    for (let k = 0; k < word.length; k++, i++) if (at() !== word[k]) fail(`in literal ${word} (expecting ${quoteChar(word[k]!)})`);
    result = { kind: word === 'null' ? 'null' : 'bool' };
  } else if (c === '"' || c === '[' || c === '{') {
    // Rare inside a quoted number: validity by JSON.parse, Go's exact wording not modelled.
    let end = text.length;
    while (end > i && WHITESPACE.includes(text[end - 1]!)) end--;
    try {
      JSON.parse(text.slice(i, end));
    } catch {
      throw new DecodeError('unexpected end of JSON input');
    }
    i = end;
    result = { kind: c === '"' ? 'string' : c === '[' ? 'array' : 'object' };
  } else {
    fail('looking for beginning of value');
  }
  skip();
  if (i < text.length) fail('after top-level value');
  return result!;
}

/** The JSON text of a decoded value, the way jsonpb sees a number field: quotes of a string stripped. */
function numberText(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : JSON.stringify(v);
}

/** encoding/json.Unmarshal of `text` into a Go number of `type`. */
export function goJSONNumber(text: string, type: GoNumberType, goName: string = type): number {
  const s = scanJSONValue(text);
  if (s.kind === 'null') return 0;
  if (s.kind !== 'number') throw new DecodeError(`json: cannot unmarshal ${s.kind} into Go value of type ${goName}`);
  const bad = (): never => {
    throw new DecodeError(`json: cannot unmarshal number ${s.literal} into Go value of type ${goName}`);
  };
  const range = RANGES[type];
  if (range) {
    if (!/^-?\d+$/.test(s.literal) || (type.startsWith('u') && s.literal.startsWith('-'))) bad();
    const n = BigInt(s.literal);
    if (n < range[0] || n > range[1]) bad();
    return Number(n);
  }
  const f = Number(s.literal);
  if (!Number.isFinite(f) || (type === 'float32' && Math.abs(f) > 3.4028234663852886e38)) bad();
  return f;
}

/**
 * A number field of a spec as legacy jsonpb decodes it: undefined when unset (absent or null), else the
 * value, or a DecodeError. Floating-point fields also take "NaN", "Infinity" and "-Infinity".
 */
export function goNumber(v: unknown, type: GoNumberType): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (type.startsWith('float') && typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
  }
  return goJSONNumber(numberText(v), type);
}

/** goNumber with an unset field read as 0 (proto3's default), for fields whose zero is meaningful. */
export const u32 = (v: unknown): number => goNumber(v, 'uint32') ?? 0;
export const i32 = (v: unknown): number => goNumber(v, 'int32') ?? 0;
export const u64 = (v: unknown): number => goNumber(v, 'uint64') ?? 0;
export const f64 = (v: unknown): number => goNumber(v, 'float64') ?? 0;
