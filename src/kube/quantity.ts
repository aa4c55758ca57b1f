// Kubernetes resource.Quantity: parsing and the canonical string form the API server (and Go's
// json.Marshal of a Quantity) writes, e.g. "2000m" -> "2", "1024Mi" -> "1Gi", "0.5" -> "500m".

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?\d+))?$/;
const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX: Array<[number, string]> = Object.entries(DECIMAL)
  .map(([s, e]) => [e, s] as [number, string])
  .sort((a, b) => b[0] - a[0]);
const NANO = 10n ** 9n;

const cache = new Map<string, string>();
const MAX_CACHED = 1024;

/** Canonical form of a quantity; throws on text that is not a quantity. */
export function canonicalQuantity(input: string | number): string {
  const key = String(input);
  let out = cache.get(key);
  if (out === undefined) {
    out = canonicalize(key);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, out);
  }
  return out;
}

function canonicalize(input: string): string {
  const s = input.trim();
  const m = QUANTITY.exec(s);
  if (!m) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  const [, sign = '', num = '', bin, dec, exp] = m;
  const [intPart = '0', frac = ''] = num.split('.');
  // Value in nano units (10^-9), rounded up as Kubernetes does for sub-nano precision.
  const digits = BigInt((intPart || '0') + frac.padEnd(9, '0').slice(0, 9));
  const lost = frac.length > 9 && /[1-9]/.test(frac.slice(9));
  let nano = digits + (lost ? 1n : 0n);
  let binary = false;
  if (bin) {
    nano *= 1024n ** BigInt(BINARY[bin]!);
    binary = true;
  } else if (dec !== undefined) {
    const e = DECIMAL[dec]!;
    nano = e >= 0 ? nano * 10n ** BigInt(e) : ceilDiv(nano, 10n ** BigInt(-e));
  } else if (exp !== undefined) {
    const e = Number(exp);
    nano = e >= 0 ? nano * 10n ** BigInt(e) : ceilDiv(nano, 10n ** BigInt(-e));
  }
  const neg = sign === '-' && nano !== 0n;
  if (nano === 0n) return '0';
  if (binary && nano % NANO === 0n) {
    const whole = nano / NANO;
    if (whole >= 1024n) {
      let n = 0;
      let v = whole;
      while (n < 6 && v % 1024n === 0n) {
        v /= 1024n;
        n++;
      }
      if (n > 0) return `${neg ? '-' : ''}${v}${Object.keys(BINARY)[n - 1]}`;
    }
  }
  for (const [e, suffix] of DECIMAL_SUFFIX) {
    const unit = 10n ** BigInt(e + 9);
    if (nano % unit === 0n) return `${neg ? '-' : ''}${nano / unit}${suffix}`;
  }
  return `${neg ? '-' : ''}${nano}n`;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
