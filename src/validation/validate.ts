// Validation of one Istio config object, as istiod's validating webhook does it (istio
// pkg/webhooks/validation/server): find the kind by group and kind (any version), decode the spec, run
// the metadata checks and the kind's rules, then refuse unknown top-level fields.
import { parseGoBool } from '../inject/annotations.js';
import { isObj, joinErrors, obj, Report, str, type Obj } from './core.js';
import { DecodeError } from './decode.js';
import { VALIDATORS, type KindValidator } from './kinds/index.js';
import { decodeNumbers } from './numbers.js';

export interface Verdict {
  allowed: boolean;
  /** Denial text, as istiod words it. */
  message?: string;
  warnings: string[];
  /** The `reason` label of istiod's galley_validation_failed metric. */
  reason?: 'yaml_decode_error' | 'unknown_type' | 'crd_conversion_error' | 'invalid_resource';
  kind: string;
}

export const ISTIO_GROUPS = ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io'];
const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';
const TOP_LEVEL_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

export interface ConfigMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Checks every kind runs first (istio validateMetadata). */
function metadataErrors(kind: string, meta: ConfigMeta, spec: Obj): string | undefined {
  const ann = meta.annotations;
  if ('internal.istio.io/webhook-always-reject' in ann) return '"internal.istio.io/webhook-always-reject" annotation found, rejecting';
  for (const banned of ['internal.istio.io/parents', 'internal.istio.io/parent-namespace']) {
    if (banned in ann) return `"${banned}" annotation found, this may not be set by users`;
  }
  if ('istio.io/dry-run' in ann) {
    const where = `${meta.namespace}/${meta.name}`;
    if (kind !== 'AuthorizationPolicy') return `${where} has unsupported annotation istio.io/dry-run, please remove the annotation`;
    const action = str(spec.action) || 'ALLOW';
    if (action !== 'ALLOW' && action !== 'DENY' && action !== '0' && action !== '1') {
      return `the annotation istio.io/dry-run currently only supports action ALLOW/DENY, found action ${action} in ${where}`;
    }
    const v = ann['istio.io/dry-run']!;
    if (parseGoBool(v) === undefined) return `${where} has annotation istio.io/dry-run with invalid value (${v}): strconv.ParseBool: parsing "${v}": invalid syntax`;
  }
  return undefined;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) out[k] = str(x);
  return out;
}

export function validateObject(object: unknown): Verdict {
  if (!isObj(object)) return { allowed: false, message: 'cannot decode configuration: object is not a JSON object', warnings: [], reason: 'yaml_decode_error', kind: '' };
  const apiVersion = str(object.apiVersion);
  const kind = str(object.kind);
  const slash = apiVersion.lastIndexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  let validator: KindValidator | undefined;
  if (ISTIO_GROUPS.includes(group)) validator = VALIDATORS[`${group}/${kind}`];
  else if (group === GATEWAY_API_GROUP) validator = () => new Report();
  if (!validator) return { allowed: false, message: `unrecognized type ${group}/${version}, Kind=${kind}`, warnings: [], reason: 'unknown_type', kind };

  const metadata = obj(object.metadata);
  const meta: ConfigMeta = { name: str(metadata.name), namespace: str(metadata.namespace), labels: stringRecord(metadata.labels), annotations: stringRecord(metadata.annotations) };
  if (object.spec !== undefined && object.spec !== null && !isObj(object.spec)) {
    return { allowed: false, message: `error decoding configuration: spec must be an object, got ${JSON.stringify(object.spec)}`, warnings: [], reason: 'crd_conversion_error', kind };
  }
  const spec = obj(object.spec);
  let report: Report;
  try {
    // istiod decodes the whole spec before it validates anything.
    if (ISTIO_GROUPS.includes(group)) decodeNumbers(kind, spec);
    const metaError = metadataErrors(kind, meta, spec);
    report = metaError ? new Report().error(metaError) : validator(spec, meta);
  } catch (e) {
    if (e instanceof DecodeError) return { allowed: false, message: `error decoding configuration: ${e.message}`, warnings: [], reason: 'crd_conversion_error', kind };
    throw e;
  }
  if (!report.ok) return { allowed: false, message: `configuration is invalid: ${joinErrors(report.errors)}`, warnings: [], reason: 'invalid_resource', kind };
  const unknown = Object.keys(object).find((k) => !TOP_LEVEL_FIELDS.has(k));
  if (unknown) return { allowed: false, message: `unknown field "${unknown}" on ${kind} resource ${meta.namespace}/${meta.name}`, warnings: [], reason: 'invalid_resource', kind };
  return { allowed: true, warnings: report.warnings, kind };
}
