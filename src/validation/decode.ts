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
  if (typeof v === 'number' && Number.isInteger(v)) return names[v] ?? String(v);
  if (typeof v === 'string' && names.includes(v)) return v;
  throw new DecodeError(`unknown value ${JSON.stringify(v)} for enum ${fullName}`);
}

/** istio ValidateDuration: at least 1ms and whole milliseconds. */
export function durationError(ns: number | undefined): string | undefined {
  if (ns === undefined) return undefined;
  if (ns < 1e6) return 'duration must be greater than 1ms';
  if (ns % 1e6 !== 0) return 'only durations to ms precision are supported';
  return undefined;
}
