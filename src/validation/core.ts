// The building blocks of Istio config validation (istio pkg/config/validation/agent): an accumulator of
// errors and warnings that renders like go-multierror, and the checks shared by every kind.
import { isCIDR, isIP } from '../net/ip.js';

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

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

/** Whether a message field or scalar is set at all (present and not null). */
export function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL_ANY_CASE = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const WILDCARD_LABEL = /^\*?[-a-zA-Z0-9]*[a-zA-Z0-9]?$/;

/** Kubernetes IsDNS1123Label (lower case, at most 63). */
export function isDNS1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Istio's label check for host names: upper case allowed. */
function isHostLabel(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL_ANY_CASE.test(s);
}

function isWildcardHostLabel(s: string): boolean {
  if (s.length === 0 || s.length > 63) return false;
  if (s === '*') return true;
  if (!s.startsWith('*')) return isHostLabel(s);
  return WILDCARD_LABEL.test(s) && !s.endsWith('-');
}

function dnsPreconditions(name: string): string | undefined {
  if (name.length > 255) return `domain name "${name}" too long (max 255)`;
  if (name.length === 0) return 'empty domain name not allowed';
  return undefined;
}

function dnsLabels(domain: string): string | undefined {
  const parts = domain.split('.');
  const tld = parts[parts.length - 1]!;
  if (/^[+-]?\d+$/.test(tld)) return `domain name "${domain}" invalid (top level domain "${tld}" cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i]!;
    if (i === parts.length - 1 && label === '') return undefined;
    if (!isHostLabel(label)) return `domain name "${domain}" invalid (label "${label}" invalid)`;
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
  if (!isWildcardHostLabel(first)) return `domain name "${domain}" invalid (label "${first}" invalid)`;
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
  const v = num(obj(p).value);
  return v < 0 || v > 100 || (v > 0 && v < 0.0001) ? `percentage ${formatGoFloat(v)} is neither 0.0, nor in range [0.0001, 100.0]` : undefined;
}

/** %v of a float64, for messages. */
export function formatGoFloat(v: number): string {
  return Number.isInteger(v) ? String(v) : String(v);
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function isQualifiedName(s: string): boolean {
  const slash = s.split('/');
  if (slash.length > 2) return false;
  const name = slash[slash.length - 1]!;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return false;
  if (slash.length === 2) {
    const prefix = slash[0]!;
    if (prefix.length === 0 || prefix.length > 253) return false;
    if (!prefix.split('.').every((l) => isDNS1123Label(l))) return false;
  }
  return true;
}

/** labels.Instance.Validate: keys are qualified names, values empty or qualified names. */
export function validateLabels(labels: unknown): string | undefined {
  const errs: string[] = [];
  for (const [k, v] of Object.entries(obj(labels))) {
    if (!isQualifiedName(k)) errs.push(`invalid tag key: "${k}"`);
    const value = str(v);
    if (value !== '' && (value.length > 63 || !LABEL_NAME.test(value))) errs.push(`invalid tag value: "${value}"`);
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

/** exportTo entries: `.`, `*`, `~` (service entries only) or namespace names, without duplicates. */
export function validateExportTo(namespace: string, exportTo: unknown, isServiceEntry: boolean, isDestinationRuleWithSelector: boolean): string | undefined {
  const entries = list(exportTo).map(str);
  if (entries.length === 0) return undefined;
  const errs: string[] = [];
  const seen = new Set<string>();
  for (const e of entries) {
    const key = e === '.' ? namespace : e;
    if (seen.has(key)) {
      errs.push(e === '.' || e === namespace ? `duplicate entries in exportTo: . and current namespace ${namespace}` : `duplicate entries in exportTo for entry ${e}`);
      continue;
    }
    seen.add(key);
    if (e === '~') {
      if (!isServiceEntry) errs.push('exportTo ~ (none) is not allowed for Istio configuration objects');
    } else if (e !== '.' && e !== '*' && !isDNS1123Label(e)) {
      errs.push('only .,*, or a valid DNS 1123 label is allowed as exportTo entry');
    }
  }
  if (errs.length === 0) {
    if (entries.includes('*') && entries.length > 1) errs.push('cannot have both public (*) and non-public exportTo values for a resource');
    if (entries.includes('~') && entries.length > 1) errs.push('cannot export service entry to no one (~) and someone');
    if (isDestinationRuleWithSelector && entries.some((e) => e !== '.' && e !== namespace)) {
      errs.push('destination rule with workload selector cannot have exportTo beyond current namespace');
    }
  }
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
