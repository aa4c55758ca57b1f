// How Go values are modelled in JavaScript, and Go's fmt rules for printing them.
//
// undefined  = an invalid reflect.Value (a missing map key): prints "<no value>"
// null       = a nil interface/pointer: prints "<nil>"
// objects    = Go maps, unless registered as structs (see goStruct): a struct's absent field reads as ""
//              (its zero value for the string fields templates compare against), a map's absent key as undefined.

const structs = new WeakSet<object>();
const stringMaps = new WeakSet<object>();

/** Marks an object as a Go struct: absent fields read as the zero value "" instead of "no value". */
export function goStruct<T extends object>(obj: T): T {
  structs.add(obj);
  return obj;
}

/** Marks an object as a Go map[string]string: `index` of an absent key gives "" rather than nil. */
export function goStringMap<T extends object>(obj: T): T {
  stringMaps.add(obj);
  return obj;
}

export function isStruct(v: unknown): boolean {
  return typeof v === 'object' && v !== null && structs.has(v);
}

export function isStringMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && stringMaps.has(v);
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's template truth: zero values and empty collections are false. */
export function truth(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return isStruct(v) || Object.keys(v).length > 0;
  return true;
}

/**
 * Formats a number as fmt's %v does. Integral numbers print as integers: in Go they are mostly typed ints
 * (ports, UIDs). Go would print a float64 from Helm values >= 1e6 as "1e+06"; meshd prints the integer.
 */
export function formatGoFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const [mant, e] = n.toExponential().split('e') as [string, string];
  const x = Number(e);
  if (x < -4 || x >= 21) return `${mant}e${x < 0 ? '-' : '+'}${String(Math.abs(x)).padStart(2, '0')}`;
  return String(n);
}

/** fmt.Sprint of one value (%v). */
export function formatValue(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatGoFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(formatNested).join(' ')}]`;
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    if (isStruct(v)) return `{${keys.map((k) => formatNested(v[k])).join(' ')}}`;
    return `map[${keys.map((k) => `${k}:${formatNested(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

function formatNested(v: unknown): string {
  return v === undefined || v === null ? '<nil>' : formatValue(v);
}

/** strconv.Quote: Go's double-quoted string syntax. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** A subset of fmt.Sprintf: verbs v s d t q f g e x X o c and %%, with flags, width and precision. */
export function sprintf(format: string, args: unknown[]): string {
  let out = '';
  let argi = 0;
  const re = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*))?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', widthS, precS, verb = ''] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    const width = widthS === '*' ? Number(args[argi++]) : widthS !== undefined ? Number(widthS) : undefined;
    const prec = precS === '*' ? Number(args[argi++]) : precS !== undefined ? Number(precS) : undefined;
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    let s: string;
    switch (verb) {
      case 'v':
      case 's':
        s = formatValue(a);
        if (prec !== undefined && typeof a === 'string') s = [...s].slice(0, prec).join('');
        break;
      case 'd':
        s = typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${typeName(a)}=${formatValue(a)})`;
        if (flags.includes('+') && typeof a === 'number' && a >= 0) s = '+' + s;
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : `%!t(${typeName(a)}=${formatValue(a)})`;
        break;
      case 'q':
        s = typeof a === 'string' ? goQuote(a) : typeof a === 'number' ? `'${String.fromCodePoint(a)}'` : `%!q(${typeName(a)}=${formatValue(a)})`;
        break;
      case 'f':
      case 'F':
        s = typeof a === 'number' ? a.toFixed(prec ?? 6) : `%!f(${typeName(a)}=${formatValue(a)})`;
        break;
      case 'e':
        s = typeof a === 'number' ? a.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : `%!e(${typeName(a)}=${formatValue(a)})`;
        break;
      case 'g':
        s = typeof a === 'number' ? formatGoFloat(a) : `%!g(${typeName(a)}=${formatValue(a)})`;
        break;
      case 'x':
      case 'X': {
        const hex =
          typeof a === 'number'
            ? Math.trunc(a).toString(16)
            : typeof a === 'string'
              ? Buffer.from(a, 'utf8').toString('hex')
              : `%!${verb}(${typeName(a)}=${formatValue(a)})`;
        s = verb === 'X' ? hex.toUpperCase() : hex;
        break;
      }
      case 'o':
        s = typeof a === 'number' ? Math.trunc(a).toString(8) : `%!o(${typeName(a)}=${formatValue(a)})`;
        break;
      case 'c':
        s = typeof a === 'number' ? String.fromCodePoint(a) : `%!c(${typeName(a)}=${formatValue(a)})`;
        break;
      default:
        s = `%!${verb}(${typeName(a)}=${formatValue(a)})`;
    }
    if (width !== undefined && s.length < width) {
      const pad = (flags.includes('0') && !flags.includes('-') && verb !== 's' ? '0' : ' ').repeat(width - s.length);
      s = flags.includes('-') ? s + ' '.repeat(width - s.length) : pad + s;
    }
    out += s;
  }
  out += format.slice(last);
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map((a) => `${typeName(a)}=${formatValue(a)}`).join(', ')})`;
  return out;
}

export function typeName(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}
