// AuthorizationPolicy as Envoy RBAC HTTP filters for proxyless gRPC servers (istiod's authz builder,
// reduced to what gRPC evaluates): a DENY filter, then an ALLOW filter, each with one policy per rule
// named `ns[<ns>]-policy[<name>]-rule[<i>]`. CUSTOM and AUDIT actions and request.auth conditions are
// not translated.
import type { IstioConfig } from '../../types.js';
import { ANY } from '../protos.js';
import type { PushContext } from '../push-context.js';
import type { Msg } from './common.js';
import { list, obj, type Obj } from '../../validation/core.js';

/**
 * A field's values. Scalars that YAML 1.1 turned into numbers or booleans (`yes`, `8080`) are kept as their
 * text: dropping them would widen a rule to match everything.
 */
const strs = (v: unknown): string[] => list(v).filter((x) => ['string', 'number', 'boolean'].includes(typeof x)).map(String);

/** Istio's value matching: `*` anything, `x*` prefix, `*x` suffix, else exact. */
function stringMatcher(value: string, ignoreCase = false): Msg {
  const m: Msg = value === '*' ? { safe_regex: { regex: '.+' } } : value.endsWith('*') ? { prefix: value.slice(0, -1) } : value.startsWith('*') ? { suffix: value.slice(1) } : { exact: value };
  return ignoreCase ? { ...m, ignore_case: true } : m;
}

const header = (name: string, value: string, ignoreCase = false): Msg => ({ header: { name, string_match: stringMatcher(value, ignoreCase) } });
const principal = (value: string): Msg => ({ authenticated: { principal_name: value === '*' ? { safe_regex: { regex: '.+' } } : stringMatcher(`spiffe://${value}`) } });
const namespace = (ns: string): Msg => ({ authenticated: { principal_name: { safe_regex: { regex: `.*/ns/${ns}/.*` } } } });

function cidr(block: string): Msg {
  const [address = '', len] = block.split('/');
  return { address_prefix: address, prefix_len: len !== undefined ? Number(len) : address.includes(':') ? 128 : 32 };
}

/** One field's values ORed, its not-values negated; both ANDed (empty when the field is unset). */
function field<T>(values: string[], notValues: string[], one: (v: string) => T, or: (xs: T[]) => T, not: (x: T) => T): T[] {
  const out: T[] = [];
  if (values.length) out.push(values.length === 1 ? one(values[0]!) : or(values.map(one)));
  if (notValues.length) out.push(not(notValues.length === 1 ? one(notValues[0]!) : or(notValues.map(one))));
  return out;
}

const orRules = (rules: Msg[]): Msg => ({ or_rules: { rules } });
const notRule = (rule: Msg): Msg => ({ not_rule: rule });
const orIds = (ids: Msg[]): Msg => ({ or_ids: { ids } });
const notId = (id: Msg): Msg => ({ not_id: id });

function permission(op: Obj): Msg {
  const rules = [
    ...field(strs(op.paths), strs(op.notPaths), (p) => ({ url_path: { path: stringMatcher(p) } }), orRules, notRule),
    ...field(strs(op.methods), strs(op.notMethods), (m) => header(':method', m), orRules, notRule),
    ...field(strs(op.hosts), strs(op.notHosts), (h) => header(':authority', h, true), orRules, notRule),
    ...field(strs(op.ports), strs(op.notPorts), (p) => ({ destination_port: Number(p) }), orRules, notRule),
  ];
  return rules.length ? { and_rules: { rules } } : { any: true };
}

function principalOf(src: Obj): Msg[] {
  return [
    ...field(strs(src.principals), strs(src.notPrincipals), principal, orIds, notId),
    ...field(strs(src.namespaces), strs(src.notNamespaces), namespace, orIds, notId),
    ...field(strs(src.ipBlocks), strs(src.notIpBlocks), (b) => ({ direct_remote_ip: cidr(b) }), orIds, notId),
    ...field(strs(src.remoteIpBlocks), strs(src.notRemoteIpBlocks), (b) => ({ remote_ip: cidr(b) }), orIds, notId),
  ];
}

/** `when` conditions istiod places on the principal side (request headers, source) and the permission side (destination). */
function conditions(when: Obj[]): { ids: Msg[]; rules: Msg[] } {
  const ids: Msg[] = [];
  const rules: Msg[] = [];
  for (const c of when) {
    const key = String(c.key ?? '');
    const values = strs(c.values);
    const notValues = strs(c.notValues);
    const h = /^request\.headers\[(.+)\]$/.exec(key);
    if (h) ids.push(...field(values, notValues, (v) => header(h[1]!, v), orIds, notId));
    else if (key === 'source.ip') ids.push(...field(values, notValues, (b) => ({ direct_remote_ip: cidr(b) }), orIds, notId));
    else if (key === 'source.namespace') ids.push(...field(values, notValues, namespace, orIds, notId));
    else if (key === 'source.principal') ids.push(...field(values, notValues, principal, orIds, notId));
    else if (key === 'destination.port') rules.push(...field(values, notValues, (p) => ({ destination_port: Number(p) }), orRules, notRule));
    else if (key === 'destination.ip') rules.push(...field(values, notValues, (b) => ({ destination_ip: cidr(b) }), orRules, notRule));
  }
  return { ids, rules };
}

function rulePolicy(rule: Obj): Msg {
  const from = list(rule.from).map((f) => principalOf(obj(obj(f).source)));
  const to = list(rule.to).map((t) => permission(obj(obj(t).operation)));
  const when = conditions(list(rule.when).map(obj));
  const withIds = (ids: Msg[]): Msg => (ids.length ? { and_ids: { ids } } : { any: true });
  return {
    permissions: (to.length ? to : [{ any: true }]).map((p) => (when.rules.length ? { and_rules: { rules: [p, ...when.rules] } } : p)),
    principals: (from.length ? from : [[]]).map((ids) => withIds([...ids, ...when.ids])),
  };
}

/** Policies that apply to a workload: mesh-wide (root namespace) and its namespace's, by selector. */
function applicable(ctx: PushContext, namespace: string, labels: Record<string, string>): IstioConfig[] {
  return ctx.config.authorizationPolicies.filter((p) => {
    if (p.namespace !== namespace && p.namespace !== ctx.mesh.rootNamespace) return false;
    const sel = obj(obj(p.spec.selector).matchLabels) as Record<string, string>;
    return Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
}

function filterFor(action: 'ALLOW' | 'DENY', policies: IstioConfig[]): Msg {
  const entries: Array<[string, Msg]> = [];
  for (const p of policies) {
    const rules = list(p.spec.rules).map(obj);
    rules.forEach((r, i) => entries.push([`ns[${p.namespace}]-policy[${p.name}]-rule[${i}]`, rulePolicy(r)]));
  }
  return {
    name: action === 'DENY' ? 'envoy.filters.http.rbac.DENY' : 'envoy.filters.http.rbac',
    typed_config: { '@type': ANY.rbac, rules: { action, policies: Object.fromEntries(entries) } },
  };
}

/**
 * The RBAC filters for a server workload, DENY before ALLOW; none when no policy applies. An ALLOW policy
 * without rules allows nothing, as in Istio.
 */
export function rbacFilters(ctx: PushContext, namespace: string, labels: Record<string, string>): Msg[] {
  const policies = applicable(ctx, namespace, labels);
  const deny = policies.filter((p) => p.spec.action === 'DENY');
  const allow = policies.filter((p) => (p.spec.action ?? 'ALLOW') === 'ALLOW');
  return [...(deny.length ? [filterFor('DENY', deny)] : []), ...(allow.length ? [filterFor('ALLOW', allow)] : [])];
}
