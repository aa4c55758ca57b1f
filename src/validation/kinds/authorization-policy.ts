// AuthorizationPolicy rules (istio ValidateAuthorizationPolicy, pkg/config/security). Every error is
// prefixed "invalid policy <name>.<namespace>:", as istiod does.
import { isCIDR, isIP } from '../../net/ip.js';
import { list, obj, present, Report, str, validatePolicyTargets, type Obj } from '../core.js';
import { enumValue } from '../decode.js';
import type { ConfigMeta } from '../validate.js';

const ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;
const SOURCE_FIELDS = ['principals', 'requestPrincipals', 'namespaces', 'ipBlocks', 'remoteIpBlocks', 'notPrincipals', 'notRequestPrincipals', 'notNamespaces', 'notIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains'];
const OPERATION_FIELDS = ['ports', 'methods', 'paths', 'hosts', 'notPorts', 'notMethods', 'notPaths', 'notHosts'];
const LITERAL = /^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$/;

const strings = (v: unknown): string[] => list(v).map(str);
const capital = (f: string): string => f[0]!.toUpperCase() + f.slice(1);

function emptyValues(key: string, values: string[]): string | undefined {
  return values.some((v) => v === '') ? `empty value not allowed, found in ${key}` : undefined;
}

function wildcardValues(key: string, values: string[]): string | undefined {
  const e = emptyValues(key, values);
  if (e) return e;
  for (const v of values) {
    const n = (v.match(/\*/g) ?? []).length;
    if (n > 1) return `at most one wildcard is allowed, found in ${key}: "${v}"`;
    if (n === 1 && v !== '*' && !v.startsWith('*') && !v.endsWith('*')) return `wildcard is only allowed at the start or end, found in ${key}: "${v}"`;
  }
  return undefined;
}

function trustDomains(key: string, values: string[]): string | undefined {
  const e = wildcardValues(key, values);
  if (e) return e;
  const bad = values.find((v) => v.includes('/'));
  return bad !== undefined ? `trust domain must not contain '/', found in ${key}: "${bad}"` : undefined;
}

function serviceAccounts(key: string, values: string[]): string | undefined {
  if (values.length > 16) return 'may not have more than 16 values';
  for (const v of values) {
    if (v === '') return `empty value not allowed, found in ${key}`;
    if (v.includes('*')) return `wildcard not allowed, found in ${key}`;
    const slashes = (v.match(/\//g) ?? []).length;
    if (slashes > 1) return `expected format 'serviceAccount' or 'namespace/serviceAccount', found "${v}" in ${key}`;
    if (v.length > 320) return `value cannot exceed 320 characters, found "${v}" in ${key}`;
    if (slashes === 1) {
      const [ns, sa] = v.split('/') as [string, string];
      if (ns === '') return `expected format 'serviceAccount' or 'namespace/serviceAccount', found empty namespace "${v}" in ${key}`;
      if (sa === '') return `expected format 'serviceAccount' or 'namespace/serviceAccount', found empty serviceAccount "${v}" in ${key}`;
    }
  }
  return undefined;
}

function ipErrors(values: string[]): string[] {
  return values.flatMap((v) => (v.includes('/') ? (isCIDR(v) ? [] : [`bad CIDR range (${v}): netip.ParsePrefix("${v}"): invalid prefix`]) : isIP(v) ? [] : [`bad IP address (${v})`]));
}

function portErrors(values: string[]): string[] {
  return values.flatMap((p) => (/^\d+$/.test(p) && Number(p) <= 65535 ? [] : [`bad port (${p}): strconv.ParseUint: parsing "${p}": invalid syntax`]));
}

function pathTemplates(key: string, paths: string[]): string | undefined {
  for (const raw of paths) {
    const templated = raw.includes('{*}') || raw.includes('{**}');
    const path = raw.replace(/^\/+|\/+$/g, '');
    let anySeen = false;
    for (const glob of path.split('/')) {
      if (glob === '{*}' && !anySeen) continue;
      if (glob === '{**}' && !anySeen) {
        anySeen = true;
        continue;
      }
      if ((glob === '{**}' || glob === '{*}') && anySeen) return `invalid or unsupported path ${path}, found in ${key}. {**} is not the last operator`;
      if (/[{}]/.test(glob)) return `invalid or unsupported path ${path}, found in ${key}. Contains '{' or '}' beyond a supported path template`;
      if (templated && !LITERAL.test(glob)) return `invalid or unsupported path ${path}, found in ${key}. Contains segment ${glob} with invalid string literal`;
    }
  }
  return undefined;
}

function mapKeyError(key: string): string | undefined {
  const open = key.indexOf('[');
  return key.endsWith(']') && open > 0 && open < key.length - 2 ? undefined : `bad key (${key}): should have format a[b]`;
}

/** istio security.ValidateAttribute: the `when` keys and what their values must look like. */
function attributeError(key: string, values: string[]): string | undefined {
  const empty = emptyValues(key, values);
  if (empty) return empty;
  if (key.startsWith('request.headers')) return mapKeyError(key);
  if (key === 'source.ip' || key === 'remote.ip' || key === 'destination.ip') {
    const e = ipErrors(values);
    return e.length > 0 ? (e.length === 1 ? e[0] : `${e.length} errors occurred:\n${e.map((x) => `\t* ${x}`).join('\n')}\n\n`) : undefined;
  }
  if (key === 'source.serviceAccount') return serviceAccounts(key, values);
  if (key === 'source.trustDomain') return wildcardValues(key, values);
  if (['source.namespace', 'source.principal', 'request.auth.principal', 'request.auth.audiences', 'request.auth.presenter', 'connection.sni'].includes(key)) return undefined;
  if (key.startsWith('request.auth.claims') || key.startsWith('experimental.envoy.filters.')) return mapKeyError(key);
  if (key === 'destination.port') {
    const e = portErrors(values);
    return e.length > 0 ? e[0] : undefined;
  }
  if (key === 'destination.namespace') return `attribute ${key} is replaced by the metadata.namespace`;
  if (key.startsWith('destination.labels')) return `attribute ${key} is replaced by the workload selector`;
  if (key === 'destination.name' || key === 'destination.user') return `deprecated attribute ${key}: only supported in v1alpha1`;
  return `unknown attribute: ${key}`;
}

function customActionRules(rules: unknown[], r: Report): void {
  for (const rule of rules) {
    for (const from of list(obj(rule).from)) {
      const src = obj(obj(from).source);
      if (!present(obj(from).source)) continue;
      for (const f of ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals']) {
        if (list(src[f]).length !== 0) r.error(`From.${capital(f)} is currently not supported with CUSTOM action`);
      }
    }
    for (const when of list(obj(rule).when)) {
      if (when === null) {
        r.error('when field cannot be nil');
        continue;
      }
      const key = str(obj(when).key);
      if (['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal'].includes(key) || key.startsWith('request.auth.')) {
        r.error(`${key} is currently not supported with CUSTOM action`);
      }
    }
  }
}

function rule(value: unknown, i: number, action: string, r: Report): void {
  if (value === null) return void r.error(`\`rule\` must not be nil, found at rule ${i}`);
  const rl = obj(value);
  let fromExists = false;
  let toExists = false;
  let tcpInFrom = false;
  let tcpInTo = false;
  for (const from of list(rl.from)) {
    if (from === null) {
      r.error(`\`from\` must not be nil, found at rule ${i}`);
      continue;
    }
    if (!present(obj(from).source)) {
      r.error(`\`from.source\` must not be nil, found at rule ${i}`);
      continue;
    }
    fromExists = true;
    const src = obj(obj(from).source);
    const n = (f: string): number => list(src[f]).length;
    if (n('principals') + n('notPrincipals') + n('namespaces') + n('notNamespaces') > 0 && n('serviceAccounts') + n('notServiceAccounts') > 0) {
      r.error(`cannot set serviceAccounts with namespaces or principals, found at rule ${i}`);
    }
    if (SOURCE_FIELDS.every((f) => n(f) === 0)) r.error(`\`from.source\` must not be empty, found at rule ${i}`);
    for (const f of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks']) for (const e of ipErrors(strings(src[f]))) r.error(e);
    for (const f of SOURCE_FIELDS) {
      const values = strings(src[f]);
      if (f === 'serviceAccounts' || f === 'notServiceAccounts') r.check(serviceAccounts(capital(f), values));
      else if (f === 'trustDomains' || f === 'notTrustDomains') r.check(trustDomains(capital(f), values));
      else r.check(emptyValues(capital(f), values));
    }
    if (['notPrincipals', 'principals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'].some((f) => present(src[f]))) {
      tcpInFrom = true;
    }
  }
  for (const to of list(rl.to)) {
    if (to === null) {
      r.error(`\`to\` must not be nil, found at rule ${i}`);
      continue;
    }
    if (!present(obj(to).operation)) {
      r.error(`\`to.operation\` must not be nil, found at rule ${i}`);
      continue;
    }
    toExists = true;
    const op = obj(obj(to).operation);
    if (OPERATION_FIELDS.every((f) => list(op[f]).length === 0)) r.error(`\`to.operation\` must not be empty, found at rule ${i}`);
    for (const e of [...portErrors(strings(op.ports)), ...portErrors(strings(op.notPorts))]) r.error(e);
    for (const f of OPERATION_FIELDS) r.check(emptyValues(capital(f), strings(op[f])));
    r.check(pathTemplates('Paths', strings(op.paths)));
    r.check(pathTemplates('NotPaths', strings(op.notPaths)));
    if (present(op.ports) || present(op.notPorts)) tcpInTo = true;
  }
  for (const c of list(rl.when)) {
    const cond = obj(c);
    const key = str(cond.key);
    if (key === '') {
      r.error('`key` must not be empty');
      continue;
    }
    const values = strings(cond.values);
    const notValues = strings(cond.notValues);
    if (values.length === 0 && notValues.length === 0) {
      r.error(`at least one of \`values\` or \`notValues\` must be set for key ${key}`);
      continue;
    }
    const ve = attributeError(key, values);
    if (ve) r.error(`invalid \`value\` for \`key\` ${key}: ${ve}`);
    const ne = attributeError(key, notValues);
    if (ne) r.error(`invalid \`notValue\` for \`key\` ${key}: ${ne}`);
  }
  if (((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo)) && action === 'DENY') {
    r.warn('configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port');
  }
}

export function validateAuthorizationPolicy(spec: Obj, meta: ConfigMeta): Report {
  const inner = new Report();
  validatePolicyTargets(spec, inner);
  const action = enumValue(spec.action, ACTIONS, 'istio.security.v1beta1.AuthorizationPolicy.Action') ?? 'ALLOW';
  const rulesSet = Array.isArray(spec.rules) && spec.rules.length > 0;
  const rules = list(spec.rules);
  if (action === 'CUSTOM') {
    if (!rulesSet) inner.error('CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
    else if (str(obj(spec.provider).name) === '') inner.error('`provider.name` must not be empty');
    customActionRules(rules, inner);
  }
  if (present(spec.provider) && action !== 'CUSTOM') inner.error(`\`provider\` must not be with non CUSTOM action, found ${action}`);
  if (action === 'DENY' && !rulesSet) inner.error('DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request');
  rules.forEach((rl, i) => rule(rl, i, action, inner));
  return new Report().merge(inner, `invalid policy ${meta.name}.${meta.namespace}: `);
}
