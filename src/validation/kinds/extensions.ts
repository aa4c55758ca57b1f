// Telemetry, WasmPlugin, TrafficExtension and ProxyConfig rules (istio ValidateTelemetry,
// ValidateWasmPlugin, ValidateTrafficExtension, ValidateProxyConfig).
import { list, obj, present, Report, str, validatePolicyTargets, validateWorkloadSelector, type Obj } from '../core.js';
import { parseCel } from '../cel.js';
import { f64, i32, u32 } from '../decode.js';
import type { ConfigMeta } from '../validate.js';

function providersError(providers: unknown): string | undefined {
  return list(providers).some((p) => p === null || str(obj(p).name) === '') ? 'providers.name may not be empty' : undefined;
}

export function validateTelemetry(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  validatePolicyTargets(spec, r);
  for (const m of list(spec.metrics)) {
    if (m === null) continue;
    r.check(providersError(obj(m).providers));
    for (const o of list(obj(m).overrides)) {
      if (o === null) {
        r.error('tagOverrides may not be null');
        continue;
      }
      for (const [name, to] of Object.entries(obj(obj(o).tagOverrides))) {
        if (name === '') r.warn('tagOverrides.name may not be empty');
        const t = obj(to);
        const op = str(t.operation) || 'UPSERT';
        if ((op === 'UPSERT' || op === '0') && str(t.value) === '') r.error('tagOverrides.value must be set when operation is UPSERT');
        if ((op === 'REMOVE' || op === '1') && str(t.value) !== '') r.error('tagOverrides.value may only be set when operation is UPSERT');
      }
      const match = obj(obj(o).match);
      if (present(match.customMetric) && str(match.customMetric) === '') r.error('customMetric may not be empty');
    }
  }
  const tracing = list(spec.tracing);
  if (tracing.length > 1) r.warn('multiple tracing is not currently supported');
  for (const t of tracing) {
    if (t === null) continue;
    const tr = obj(t);
    if (list(tr.providers).length > 1) r.warn('multiple providers is not currently supported');
    r.check(providersError(tr.providers));
    const pct = f64(tr.randomSamplingPercentage);
    if (pct < 0 || pct > 100) r.error('randomSamplingPercentage must be in range [0.0, 100.0]');
    for (const [name, tag] of Object.entries(obj(tr.customTags))) {
      if (name === '') r.error('tag name may not be empty');
      const tg = obj(tag);
      if (present(tg.literal) && str(obj(tg.literal).value) === '') r.error('literal tag value may not be empty');
      else if (present(tg.header) && str(obj(tg.header).name) === '') r.error('header tag name may not be empty');
      else if (present(tg.environment) && str(obj(tg.environment).name) === '') r.error('environment tag name may not be empty');
    }
  }
  for (const l of list(spec.accessLogging)) {
    if (l === null) continue;
    const log = obj(l);
    if (present(log.filter)) {
      try {
        parseCel(str(obj(log.filter).expression));
      } catch (e) {
        r.error(`must be a valid CEL expression, ${(e as Error).message}`);
      }
    }
    r.check(providersError(log.providers));
  }
  return r;
}

const URL_SCHEMES = new Set(['', 'file', 'http', 'https', 'oci']);

/** Go's url.ParseRequestURI, reduced to whether it accepts the text and the scheme it finds. */
function parseRequestURI(u: string): { scheme: string } | undefined {
  if (/[\u0000-\u001f\u007f\s]/.test(u)) return undefined;
  // Percent signs must start a two-digit hex escape.
  if (/%(?![0-9a-fA-F]{2})/.test(u)) return undefined;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(u);
  if (m) return { scheme: m[1]!.toLowerCase() };
  return u.startsWith('/') ? { scheme: '' } : undefined;
}

function wasmURLError(url: string): string | undefined {
  if (url === '') return 'url field needs to be set';
  const parsed = parseRequestURI(url) ?? parseRequestURI(`http://${url}`);
  if (!parsed) return `failed to parse url: parse "${url}": invalid URI for request`;
  return URL_SCHEMES.has(parsed.scheme) ? undefined : `url contains unsupported scheme: ${parsed.scheme}`;
}

function shaError(sha: string): string | undefined {
  if (sha === '') return undefined;
  if (sha.length !== 64) return 'sha256 field must be 64 characters long';
  return /^[a-f0-9]{64}$/.test(sha) ? undefined : 'sha256 field must match [a-f0-9]{64} pattern';
}

function vmConfigError(vm: unknown): string | undefined {
  const seen = new Set<string>();
  for (const e of list(obj(vm).env)) {
    if (e === null) continue;
    const env = obj(e);
    const name = str(env.name);
    if (name === '') return 'spec.vmConfig.env invalid';
    if (name.length > 256) return 'env.name field must be less than 255 characters long';
    if (seen.has(name)) return 'duplicate env';
    seen.add(name);
    const from = str(env.valueFrom) || 'INLINE';
    if (from !== 'INLINE' && from !== '0' && str(env.value) !== '') return 'value may only be set when valueFrom is INLINE';
  }
  return undefined;
}

function matchError(selectors: unknown): string | undefined {
  const sels = list(selectors);
  for (let i = 0; i < sels.length; i++) {
    if (sels[i] === null) return `spec.Match[${i}] is nil`;
    const ports = list(obj(sels[i]).ports);
    for (let j = 0; j < ports.length; j++) {
      if (ports[j] === null) return `spec.Match[${i}].Ports[${j}] is nil`;
      const n = u32(obj(ports[j]).number);
      if (n <= 0 || n > 65535) return `spec.Match[${i}].Ports[${j}] is out of range: ${n}`;
    }
  }
  return undefined;
}

export function validateWasmPlugin(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  validatePolicyTargets(spec, r);
  r.check(wasmURLError(str(spec.url)));
  r.check(shaError(str(spec.sha256)));
  if (str(spec.imagePullSecret).length > 253) r.error('imagePullSecret field must be less than 253 characters long');
  if (str(spec.pluginName).length > 256) r.error('pluginName field must be less than 255 characters long');
  r.check(vmConfigError(spec.vmConfig));
  r.check(matchError(spec.match));
  return r;
}

export function validateTrafficExtension(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  const wasm = present(spec.wasm) ? obj(spec.wasm) : undefined;
  const lua = present(spec.lua) ? obj(spec.lua) : undefined;
  if ((wasm && lua) || (!wasm && !lua)) r.error('exactly one of wasm or lua must be set');
  validatePolicyTargets({ selector: spec.selector, targetRefs: spec.targetRefs }, r);
  if (lua) {
    const code = str(lua.inlineCode);
    if (code.length === 0) r.error('lua.inlineCode cannot be empty');
    else if (Buffer.byteLength(code) > 65536) r.error('lua.inlineCode exceeds maximum size of 64KB');
  }
  if (wasm) {
    r.check(wasmURLError(str(wasm.url)));
    r.check(shaError(str(wasm.sha256)));
    if (str(wasm.imagePullSecret).length > 253) r.error('imagePullSecret field must be less than 253 characters long');
    if (str(wasm.pluginName).length > 256) r.error('pluginName field must be less than 256 characters long');
    r.check(vmConfigError(wasm.vmConfig));
  }
  r.check(matchError(spec.match));
  return r;
}

export function validateProxyConfig(spec: Obj, _meta: ConfigMeta): Report {
  const r = new Report();
  validateWorkloadSelector(spec.selector, r);
  if (i32(spec.concurrency) < 0) r.error('concurrency must be greater than or equal to 0');
  return r;
}
