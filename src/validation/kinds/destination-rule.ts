// DestinationRule rules (istio ValidateDestinationRule).
import { isDNS1123Label, list, obj, present, Report, str, validateExportTo, validateLabels, validateWildcardDomain, validateWorkloadSelector, type Obj } from '../core.js';
import { trafficPolicy } from '../traffic-policy.js';
import type { ConfigMeta } from '../validate.js';

export function validateDestinationRule(spec: Obj, meta: ConfigMeta): Report {
  const r = new Report();
  r.check(validateWildcardDomain(str(spec.host)));
  trafficPolicy(meta.namespace, spec.trafficPolicy, r);
  const names = new Set<string>();
  for (const item of list(spec.subsets)) {
    if (item === null) {
      r.error('subset may not be null');
      continue;
    }
    const subset = obj(item);
    const name = str(subset.name);
    if (names.has(name)) r.error(`duplicate subset names: ${name}`);
    names.add(name);
    if (name === '') r.error('subset name cannot be empty');
    else if (!isDNS1123Label(name)) r.error(`subset name is invalid: ${name}`);
    r.check(validateLabels(subset.labels));
    trafficPolicy(meta.namespace, subset.trafficPolicy, r);
  }
  r.check(validateExportTo(meta.namespace, spec.exportTo, false, present(spec.workloadSelector)));
  validateWorkloadSelector(spec.workloadSelector, r);
  return r;
}
