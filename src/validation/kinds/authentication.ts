// RequestAuthentication and PeerAuthentication rules (istio ValidateRequestAuthentication,
// validateJwtRule, ValidatePeerAuthentication).
import { createPrivateKey, createPublicKey, createSecretKey, type JsonWebKey } from 'node:crypto';
import { list, obj, present, Report, str, validatePolicyTargets, validateWorkloadSelector, type Obj } from '../core.js';
import { duration, durationError, enumValue, goJSONNumber } from '../decode.js';
import { validateStrictHeaderName } from '../http-rules.js';
import type { ConfigMeta } from '../validate.js';

/** The parts of Go's url.Parse that reject a jwksUri, then the scheme check. */
export function goURLError(raw: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(raw)) return `parse ${JSON.stringify(raw)}: net/url: invalid control character in URL`;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(raw)?.[1] ?? '';
  const rest = scheme ? raw.slice(scheme.length + 1) : raw;
  if (rest.startsWith('//')) {
    const authority = rest.slice(2).split(/[/?#]/, 1)[0]!;
    const hostport = authority.slice(authority.lastIndexOf('@') + 1);
    const colon = hostport.startsWith('[') ? hostport.indexOf(':', hostport.indexOf(']')) : hostport.lastIndexOf(':');
    if (colon !== -1 && !/^\d*$/.test(hostport.slice(colon + 1))) return `parse ${JSON.stringify(raw)}: invalid port "${hostport.slice(colon)}" after host`;
  }
  if (scheme.toLowerCase() !== 'http' && scheme.toLowerCase() !== 'https') return `URI scheme "${scheme.toLowerCase()}" is not supported`;
  return undefined;
}

type Jwk = JsonWebKey & { kty?: string; d?: string; k?: string };

/** Parses a JWK set (or a single JWK); returns its keys or why it is not one. */
function parseJwks(text: string): { keys?: Jwk[]; error?: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `failed to unmarshal JSON into key set: ${(e as Error).message}` };
  }
  const keys = (Array.isArray(obj(v).keys) ? obj(v).keys : [v]) as unknown[];
  const out: Jwk[] = [];
  for (const k of keys) {
    const key = obj(k) as Jwk;
    try {
      if (key.kty === 'oct') createSecretKey(Buffer.from(str(key.k), 'base64url'));
      else if (key.d !== undefined) createPrivateKey({ key, format: 'jwk' });
      else createPublicKey({ key, format: 'jwk' });
    } catch (e) {
      return { error: `failed to parse key: ${(e as Error).message}` };
    }
    out.push(key);
  }
  return { keys: out };
}

/** A null list element decodes to an empty JWTRule, which is then validated like any other. */
function jwtRule(value: unknown, r: Report): void {
  const rule = obj(value);
  const errs: string[] = [];
  for (const a of list(rule.audiences)) if (str(a) === '') errs.push('audience must be non-empty string');
  if (str(rule.issuer) === '' && str(rule.jwksUri) === '') errs.push('issuer or jwksUri must be non-empty string');
  if (str(rule.jwksUri) !== '') {
    const e = goURLError(str(rule.jwksUri));
    if (e) errs.push(e);
  }
  if (str(rule.jwks) !== '') {
    const parsed = parseJwks(str(rule.jwks));
    if (parsed.error) errs.push(`jwks parse error: ${parsed.error}`);
    parsed.keys?.forEach((k, i) => {
      if (k.d !== undefined || k.kty === 'oct') r.warn(`jwks key at index ${i} contains private key material; only public keys are used for verification`);
    });
  }
  for (const h of list(rule.fromHeaders)) {
    if (h === null) errs.push('location header name must be non-null');
    else if (str(obj(h).name) === '') errs.push('location header name must be non-empty string');
  }
  for (const p of list(rule.fromParams)) if (str(p) === '') errs.push('location query must be non-empty string');
  for (const c of list(rule.fromCookies)) if (str(c) === '') errs.push('cookie name must be non-empty string');
  for (const item of list(rule.outputClaimToHeaders)) {
    if (item === null) {
      errs.push('outputClaimToHeaders must not be null');
      continue;
    }
    const ch = obj(item);
    if (str(ch.claim) === '' || str(ch.header) === '') {
      errs.push('outputClaimToHeaders header and claim value must be non-empty string');
      continue;
    }
    const e = validateStrictHeaderName(str(ch.header));
    if (e) errs.push(e);
  }
  if (present(rule.timeout)) {
    const e = durationError(duration(rule.timeout));
    if (e) errs.push(e);
  }
  // validateJwtRule builds its errors with multierror.Append, so even one error is a list.
  if (errs.length > 0) r.error(`${errs.length} error${errs.length === 1 ? '' : 's'} occurred:\n${errs.map((e) => `\t* ${e}`).join('\n')}\n\n`);
}

export function validateRequestAuthentication(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  validatePolicyTargets(spec, r);
  for (const rule of list(spec.jwtRules)) {
    const presence = obj(rule).presence;
    enumValue(presence, ['UNSPECIFIED', 'OPTIONAL', 'REQUIRED'], 'istio.security.v1beta1.JWTRule.JWTPresence');
    jwtRule(rule, r);
  }
  return r;
}

const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

export function validatePeerAuthentication(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  enumValue(obj(spec.mtls).mode, MTLS_MODES, 'istio.security.v1beta1.PeerAuthentication.MutualTLS.Mode');
  const portLevel = spec.portLevelMtls;
  for (const v of Object.values(obj(portLevel))) enumValue(obj(v).mode, MTLS_MODES, 'istio.security.v1beta1.PeerAuthentication.MutualTLS.Mode');
  // Port keys are uint32 map keys, decoded from the key's text as a JSON number.
  const ports = Object.keys(obj(portLevel)).map((k) => goJSONNumber(k, 'uint32'));
  const emptySelector = !present(spec.selector) || Object.keys(obj(obj(spec.selector).matchLabels)).length === 0;
  if (emptySelector && ports.length !== 0) r.error('mesh/namespace peer authentication cannot have port level mTLS');
  if (present(portLevel) && ports.length === 0) r.error('port level mTLS, if defined, must have at least one element');
  for (const p of ports) if (p <= 0 || p > 65535) r.error('port must be in range 1..65535');
  validateWorkloadSelector(spec.selector, r);
  return r;
}
