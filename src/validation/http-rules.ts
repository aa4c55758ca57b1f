// HTTP-level checks shared by several kinds: header names and values (including Envoy's %VAR% syntax),
// RE2 regexes, string matches, retries, percentages and host-name matching.
import { durationError, duration, i32 } from './decode.js';
import { obj, present, str, type Obj } from './core.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~A-Za-z0-9,]+$/;
const PSEUDO_HEADERS = new Set([':method', ':scheme', ':authority', ':path', ':status']);

export function isJwtClaimRoute(name: string): boolean {
  return /^@request\.auth\.claims(\.|\[).+/.test(name);
}

export function validateHeaderNameOrClaim(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (isJwtClaimRoute(name) || PSEUDO_HEADERS.has(name)) return undefined;
  return TOKEN.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

export function validateCorsHeaderName(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name === '*') return undefined;
  return TOKEN.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

export function validateStrictHeaderName(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  return /^[-_A-Za-z0-9]+$/.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

export function validateProbeHeaderName(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  return /^[-A-Za-z0-9]+$/.test(name) ? undefined : `header name ${name} is not a valid header name`;
}

const isInternal = (h: string): boolean => h.startsWith(':') || h.toLowerCase() === 'host';
const isAuthority = (h: string): boolean => h.toLowerCase() === ':authority' || h.toLowerCase() === 'host';

/** Request header add/set: `:authority` and `host` may be set, other pseudo headers may not. */
export function validateHeaderOperationWithAuthority(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  return isInternal(name) && !isAuthority(name) ? `invalid header "${name}": header cannot have ":" prefix` : undefined;
}

export function validateHeaderOperation(name: string): string | undefined {
  if (name === '') return 'header name cannot be empty';
  if (name.toLowerCase() === 'host') return `invalid header "${name}": cannot set Host header`;
  return isInternal(name) ? `invalid header "${name}": header cannot have ":" prefix` : undefined;
}

/** Envoy's header value formatter syntax: %VAR%, %VAR(args)%, %% escapes. */
function headerValueSyntax(v: string): string | undefined {
  type State = 'literal' | 'name' | 'expectArray' | 'expectString' | 'string' | 'delimOrEnd' | 'argsEnd' | 'varEnd';
  let state: State = 'literal';
  for (let pos = 0; pos < v.length; pos++) {
    const ch = v[pos]!;
    const hasNext = pos + 1 < v.length;
    switch (state) {
      case 'literal':
        if (ch !== '%') break;
        if (!hasNext) return 'invalid header configuration. Un-escaped %';
        if (v[pos + 1] === '%') {
          pos++;
          break;
        }
        state = 'name';
        break;
      case 'name':
        if (ch === '%') state = 'literal';
        else if (ch === '(') state = 'expectArray';
        break;
      case 'expectArray':
        if (ch === '[') state = 'expectString';
        else if (ch !== ' ') state = 'string';
        break;
      case 'delimOrEnd':
        if (ch === ',') state = 'expectString';
        else if (ch === ']') state = 'argsEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ',', ']', or whitespace";
        break;
      case 'expectString':
        if (ch === '"') state = 'string';
        else if (ch !== ' ') return `invalid header configuration. Expecting '"'`;
        break;
      case 'string':
        if (ch === '\\') {
          if (!hasNext) return 'invalid header configuration. Un-terminated backslash in JSON string';
          pos++;
        } else if (ch === ')') state = 'varEnd';
        else if (ch === '"') state = 'delimOrEnd';
        break;
      case 'argsEnd':
        if (ch === ')') state = 'varEnd';
        else if (ch !== ' ') return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'";
        break;
      case 'varEnd':
        if (ch === '%') state = 'literal';
        else if (ch !== ' ') return "invalid header configuration. Expecting '%' or whitespace after";
        break;
    }
  }
  return state === 'literal' ? undefined : `invalid header configuration. Un-terminated variable expression '${v}'`;
}

export function validateHeaderValue(value: string): string | undefined {
  if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) return `header value configuration ${value} is invalid`;
  const e = headerValueSyntax(value);
  return e ? `header value configuration: ${e}` : undefined;
}

/** Header manipulation blocks (`headers.request/response.add/set/remove`). */
export function headerOperationErrors(headers: unknown): string[] {
  const errs: string[] = [];
  const push = (e: string | undefined): void => void (e && errs.push(e));
  const req = obj(obj(headers).request);
  const resp = obj(obj(headers).response);
  for (const [k, v] of Object.entries(obj(req.add))) push(validateHeaderOperationWithAuthority(k)), push(validateHeaderValue(str(v)));
  for (const [k, v] of Object.entries(obj(req.set))) push(validateHeaderOperationWithAuthority(k)), push(validateHeaderValue(str(v)));
  for (const k of Array.isArray(req.remove) ? req.remove : []) push(validateHeaderOperation(str(k)));
  for (const [k, v] of Object.entries(obj(resp.add))) push(validateHeaderOperation(k)), push(validateHeaderValue(str(v)));
  for (const [k, v] of Object.entries(obj(resp.set))) push(validateHeaderOperation(k)), push(validateHeaderValue(str(v)));
  for (const k of Array.isArray(resp.remove) ? resp.remove : []) push(validateHeaderOperation(str(k)));
  return errs;
}

/** Whether `re` is a valid RE2 expression (JavaScript syntax minus what RE2 lacks, plus RE2's flag groups). */
export function re2Error(re: string): string | undefined {
  if (/\(\?<?[=!]/.test(re)) return 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`';
  if (/\\[1-9]/.test(re)) return `error parsing regexp: invalid escape sequence: \`${/\\[1-9]/.exec(re)![0]}\``;
  const flagsStripped = re.replace(/\(\?[imsU]+\)/g, '').replace(/\(\?[imsU]*-?[imsU]*:/g, '(?:').replace(/\(\?P</g, '(?<');
  try {
    new RegExp(flagsStripped, 'u');
  } catch {
    try {
      new RegExp(flagsStripped);
    } catch (e) {
      return `error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
    }
  }
  return undefined;
}

export function validateRegexp(re: string, where: string): string | undefined {
  if (re.length > 1024) return `"${where}": regex is too large, max length allowed is 1024`;
  const e = re2Error(re);
  return e ? `"${where}": ${e}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)` : undefined;
}

/** A StringMatch oneof: which member is set (the later-declared member wins, as jsonpb applies them). */
export function matchType(sm: unknown): 'exact' | 'prefix' | 'regex' | undefined {
  const m = obj(sm);
  if (present(m.regex)) return 'regex';
  if (present(m.prefix)) return 'prefix';
  if (present(m.exact)) return 'exact';
  return undefined;
}

export function validateStringMatchRegexp(sm: unknown, where: string): string | undefined {
  if (matchType(sm) !== 'regex') return undefined;
  const re = str(obj(sm).regex);
  if (re === '') return `"${where}": regex string match should not be empty`;
  return validateRegexp(re, where);
}

export function validateStringMatch(sm: unknown, where: string): string | undefined {
  const t = matchType(sm);
  if (t === 'prefix' && str(obj(sm).prefix) === '') return `"${where}": prefix string match should not be empty`;
  return t === 'regex' ? validateStringMatchRegexp(sm, where) : undefined;
}

const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes',
  'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);
/** Status codes Go's http.StatusText knows. */
const HTTP_STATUS = new Set([100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511]);

export function retryErrors(retries: unknown): string[] {
  if (!present(retries)) return [];
  const r = obj(retries);
  const errs: string[] = [];
  const attempts = i32(r.attempts);
  if (attempts < 0) errs.push('attempts cannot be negative');
  const perTry = duration(r.perTryTimeout);
  if (attempts === 0 && (perTry !== undefined || str(r.retryOn) !== '' || present(r.retryRemoteLocalities))) {
    errs.push('http retry policy configured when attempts are set to 0 (disabled)');
  }
  const e = durationError(perTry);
  if (e) errs.push(e);
  if (str(r.retryOn) !== '') {
    for (const p of str(r.retryOn).split(',')) {
      const code = /^[+-]?\d+$/.test(p) ? Number(p) : 0;
      if (!HTTP_STATUS.has(code) && !RETRY_ON.has(p)) errs.push(`"${p}" is not a valid retryOn policy`);
    }
  }
  const b = durationError(duration(r.backoff));
  if (b) errs.push(b);
  return errs;
}

/** istio host.Name: whether two hosts overlap (either may be a wildcard). */
export function hostsMatch(a: string, b: string): boolean {
  const aw = a.startsWith('*');
  const bw = b.startsWith('*');
  if (aw && bw) return a.length < b.length ? b.slice(1).endsWith(a.slice(1)) : a.slice(1).endsWith(b.slice(1));
  if (aw) return b.endsWith(a.slice(1));
  if (bw) return a.endsWith(b.slice(1));
  return a === b;
}

/** istio host.Name.SubsetOf: every host `a` matches is matched by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}

export type { Obj };
