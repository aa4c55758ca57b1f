// The building blocks of Istio config validation (istio pkg/config/validation/agent): an accumulator of
// errors and warnings that renders like go-multierror, and the checks shared by every kind.
import { goQuote } from '../gotemplate/values.js';
import { isCIDR, isIP } from '../net/ip.js';
import { f64 } from './decode.js';
import { isObj, type Obj } from '../util/json.js';

// Re-exported for the validators, which read JSON through this module.
export { isObj, type Obj };

/**
 * A report stops growing after this many errors (and as many warnings), or this many characters of them. A
 * hostile object can make the number of findings quadratic in its size (every pair of its hosts a duplicate),
 * which istiod would build in full; no client sees that many (kube-apiserver drops warnings past 4 KiB).
 */
export const MAX_FINDINGS = 1000;
export const MAX_FINDING_CHARS = 1 << 20;

class Findings {
  readonly items: string[] = [];
  private chars = 0;
  full = false;

  constructor(private readonly what: string) {}

  add(msg: string): void {
    if (this.full) return;
    if (this.items.length >= MAX_FINDINGS || (this.items.length > 0 && this.chars + msg.length > MAX_FINDING_CHARS)) {
      this.items.push(`further ${this.what} not reported (meshd reports at most ${MAX_FINDINGS}, or ${MAX_FINDING_CHARS} characters)`);
      this.full = true;
      return;
    }
    this.items.push(msg);
    this.chars += msg.length;
  }
}

export class Report {
  private readonly e = new Findings('errors');
  private readonly w = new Findings('warnings');

  get errors(): readonly string[] {
    return this.e.items;
  }

  get warnings(): string[] {
    return this.w.items;
  }

  /** No further errors will be recorded: loops whose findings can be quadratic stop here. */
  get errorsFull(): boolean {
    return this.e.full;
  }

  get warningsFull(): boolean {
    return this.w.full;
  }

  error(msg: string): this {
    this.e.add(msg);
    return this;
  }

  warn(msg: string): this {
    this.w.add(msg);
    return this;
  }

  /** Records `msg` as an error when it is a string (the checks below return undefined when fine). */
  check(msg: string | undefined): boolean {
    if (msg !== undefined) this.e.add(msg);
    return msg === undefined;
  }

  merge(other: Report, prefix = ''): this {
    for (const e of other.errors) this.e.add(prefix + e);
    for (const w of other.warnings) this.w.add(w);
    return this;
  }

  get ok(): boolean {
    return this.e.items.length === 0;
  }
}

/** go-multierror's text: a single error alone, several as a bulleted list. */
export function joinErrors(errors: readonly string[]): string {
  if (errors.length === 1) return errors[0]!;
  return `${errors.length} errors occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`;
}

export function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

/** A repeated field: JSON null or [] decode to an unset (empty) list. */
export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The strings of a repeated field, anything else dropped. */
export function stringList(v: unknown): string[] {
  return list(v).filter((x): x is string => typeof x === 'string');
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** Whether a message field or scalar is set at all (present and not null). */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

// Istio's labels package (pkg/config/labels): RFC 1123 label syntax in either case, at most 63 bytes. Every
// name check of Istio config (port, subset, gateway and namespace names, exportTo, host labels) uses it;
// Kubernetes' own lower-case IsDNS1123Label is not used by istiod's config validation.
const LABEL = '[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
/** `*`, or a label with a leading `*` or `*-`, or a plain label. */
const WILDCARD_LABEL = new RegExp(`^(?:\\*|(?:\\*|\\*-)?${LABEL})$`);

/** istio labels.IsDNS1123Label: upper case allowed (unlike Kubernetes' check of the same name). */
export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** istio labels.IsWildcardDNS1123Label. */
export function isWildcardDNS1123Label(s: string): boolean {
  return s.length <= 63 && WILDCARD_LABEL.test(s);
}

function dnsPreconditions(name: string): string | undefined {
  // Go's len counts bytes.
  if (Buffer.byteLength(name) > 255) return `domain name ${goQuote(name)} too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

/** Whether Go's strconv.Atoi accepts `s` (a signed decimal within int64). */
function isGoInt(s: string): boolean {
  if (!/^[+-]?\d+$/.test(s)) return false;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

function dnsLabels(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1]!;
  if (isGoInt(tld)) return `domain name ${goQuote(domain)} invalid (top level domain ${goQuote(tld)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i]!;
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isDNS1123Label(label)) return `domain name ${goQuote(domain)} invalid (label ${goQuote(label)} invalid)`;
  }
  return undefined;
}

export function validateFQDN(fqdn: string): string | undefined {
  return dnsPreconditions(fqdn) ?? dnsLabels(fqdn);
}

/** An FQDN whose first label may be a wildcard (`*`, `*.foo`, `*foo`). */
export function validateWildcardDomain(domain: string): string | undefined {
  const pre = dnsPreconditions(domain);
  if (pre) return pre;
  const dot = domain.indexOf('.');
  const first = dot === -1 ? domain : domain.slice(0, dot);
  if (!isWildcardDNS1123Label(first)) return `domain name ${goQuote(domain)} invalid (label ${goQuote(first)} invalid)`;
  return dot === -1 ? undefined : dnsLabels(domain.slice(dot + 1));
}

export function validatePartialWildcard(host: string): string | undefined {
  return host.includes('*') && host.length !== 1 && !host.startsWith('*.') ? `partial wildcard "${host}" not allowed` : undefined;
}

export function validatePort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `port number ${port} must be in the range 1..65535`;
}

export function validateIPAddress(addr: string): string | undefined {
  return isIP(addr) ? undefined : `${addr} is not a valid IP`;
}

/** An IP, or a CIDR block when the value has a slash. */
export function validateIPSubnet(subnet: string): string | undefined {
  if (subnet.split('/').length === 2) return isCIDR(subnet) ? undefined : `${subnet} is not a valid CIDR block`;
  return validateIPAddress(subnet);
}

const PROTOCOLS = ['tcp', 'udp', 'grpc', 'grpc-web', 'http', 'http_proxy', 'http2', 'https', 'tls', 'mongo', 'redis', 'mysql'];

/** protocol.Parse: case-insensitive; returns the canonical upper-case name or undefined. */
export function parseProtocol(p: string): string | undefined {
  const lower = p.toLowerCase();
  return PROTOCOLS.includes(lower) ? lower.toUpperCase() : undefined;
}

export function validateProtocol(p: string): string | undefined {
  // An empty protocol means protocol sniffing.
  return p === '' || parseProtocol(p) ? undefined : `unsupported protocol: ${p}`;
}

export function validatePortName(name: string): string | undefined {
  return isDNS1123Label(name) ? undefined : `invalid port name: ${name}`;
}

export function validatePercent(v: number): string | undefined {
  return v < 0 || v > 100 ? `percentage ${v} is not in range 0..100` : undefined;
}

/** The double-valued Percent message: 0, or 0.0001 to 100. */
export function validatePercentage(p: unknown): string | undefined {
  if (!present(p)) return undefined;
  const v = f64(obj(p).value);
  return v < 0 || v > 100 || (v > 0 && v < 0.0001) ? `percentage ${formatGoFloat(v)} is neither 0.0, nor in range [0.0001, 100.0]` : undefined;
}

/** %v of a float64, for messages. */
export function formatGoFloat(v: number): string {
  return Number.isInteger(v) ? String(v) : String(v);
}

// istio labels.Instance.Validate: Kubernetes' label syntax, but prefix labels of either case, no length
// limit per prefix label, and none on values.
const QUALIFIED_NAME = '(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const TAG_KEY = new RegExp(`^(${LABEL}(?:\\.${LABEL})*/)?(${QUALIFIED_NAME})$`);
const TAG_VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

function tagKeyError(k: string): string | undefined {
  const m = TAG_KEY.exec(k);
  if (!m) return `invalid tag key: ${goQuote(k)}`;
  if (m[1] !== undefined && m[1].length - 1 > 253) return `invalid tag key: ${goQuote(k)} (DNS prefix is too long)`;
  if (m[2]!.length > 63) return `invalid tag key: ${goQuote(k)} (name is too long)`;
  return undefined;
}

/** labels.Instance.Validate: keys are qualified names with an optional DNS prefix, values empty or qualified names. */
export function validateLabels(labels: unknown): string | undefined {
  const errs: string[] = [];
  for (const [k, v] of Object.entries(obj(labels))) {
    const e = tagKeyError(k);
    if (e) errs.push(e);
    const value = str(v);
    if (!TAG_VALUE.test(value)) errs.push(`invalid tag value: ${goQuote(value)}`);
  }
  return errs.length > 0 ? joinErrors(errs) : undefined;
}

/** The v1beta1 workload selector: keys set, no wildcards; empty labels only warn. */
export function validateWorkloadSelector(selector: unknown, r: Report, warning = 'workload selector specified without labels'): void {
  if (!present(selector)) return;
  const labels = obj(obj(selector).matchLabels);
  if (Object.keys(labels).length === 0) {
    r.warn(warning);
    return;
  }
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') r.error(`empty key is not supported in selector: "=${str(v)}"`);
    if (k.includes('*') || str(v).includes('*')) r.error(`wildcard is not supported in selector: "${k}=${str(v)}"`);
  }
}

/** The alpha `workloadSelector.labels` of Sidecar, ServiceEntry and EnvoyFilter. */
export function validateAlphaWorkloadSelector(selector: unknown, warning: string): { errors: string[]; warning?: string } {
  if (!present(selector)) return { errors: [] };
  const labels = obj(obj(selector).labels);
  const errors: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') return { errors: [`empty key is not supported in selector: "=${str(v)}"`] };
    if (k.includes('*') || str(v).includes('*')) return { errors: [`wildcard is not supported in selector: "${k}=${str(v)}"`] };
  }
  return Object.keys(labels).length === 0 ? { errors, warning } : { errors };
}

/** visibility.Instance.Validate: `.`, `*`, or a namespace name; `~` only where the caller allows it. */
function visibilityError(v: string): string | undefined {
  if (v === '.' || v === '*') return undefined;
  if (v === '~') return 'exportTo ~ (none) is not allowed for Istio configuration objects';
  return isDNS1123Label(v) ? undefined : 'only .,*, or a valid DNS 1123 label is allowed as exportTo entry';
}

/** istio validateExportTo: entries `.`, `*`, `~` (service entries only) or namespace names, without duplicates. */
export function validateExportTo(namespace: string, exportTo: unknown, isServiceEntry: boolean, isDestinationRuleWithSelector: boolean): string | undefined {
  const entries = list(exportTo).map(str);
  if (entries.length === 0) return undefined;
  const errs: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    // `.` stands for the config's namespace, so `.` and that namespace are duplicates.
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      // istiod words `[., ns]` as a duplicate of entry ns; Istio's corpus (and meshd) name the `.` pairing.
      const dot = key !== e || (e === namespace && entries.includes('.'));
      errs.push(dot ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`);
    } else if (isServiceEntry && e === '~') {
      seen.add(key);
    } else {
      const err = visibilityError(key);
      if (err) errs.push(err);
      else seen.add(key);
    }
  }
  if (isDestinationRuleWithSelector && seen.size > 0) {
    if (!seen.has(namespace)) errs.push('destination rule with workload selector cannot have exportTo beyond current namespace');
    else if (seen.size > 1) errs.push('destination rule with workload selector cannot have multiple entries in exportTo');
  }
  if (seen.has('*') && entries.length > 1) errs.push('cannot have both public (*) and non-public exportTo values for a resource');
  if (seen.has('~') && entries.length > 1) errs.push('cannot export service entry to no one (~) and someone');
  return errs.length > 0 ? joinErrors(errs) : undefined;
}

const TARGET_KINDS = ['core/Service', 'networking.istio.io/ServiceEntry', 'gateway.networking.k8s.io/Gateway', 'gateway.networking.k8s.io/GatewayClass'];

/** A policy's targetRef: a named Service, ServiceEntry, Gateway or GatewayClass in the same namespace. */
export function validateTargetRef(ref: unknown, r: Report): void {
  if (!present(ref)) return;
  const t = obj(ref);
  if (str(t.name) === '') r.error('targetRef name must be set');
  if (str(t.namespace) !== '') r.error('targetRef namespace must not be set; cross namespace referencing is not supported');
  const group = str(t.group) || 'core';
  if (!TARGET_KINDS.includes(`${group}/${str(t.kind)}`)) {
    r.error(`targetRef must be to one of [core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1/Gateway gateway.networking.k8s.io/v1/GatewayClass] but was ${str(t.group)}/${str(t.kind)}`);
  }
}

/** selector, targetRef and targetRefs are exclusive; each is then checked. */
export function validatePolicyTargets(spec: Obj, r: Report): void {
  const set = [present(spec.selector), present(spec.targetRef), list(spec.targetRefs).length > 0].filter(Boolean).length;
  if (set > 1) r.error('only one of targetRefs or workloadSelector can be set');
  validateWorkloadSelector(spec.selector, r);
  validateTargetRef(spec.targetRef, r);
  for (const t of list(spec.targetRefs)) validateTargetRef(t, r);
}
