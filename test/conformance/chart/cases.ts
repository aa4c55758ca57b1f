// One case per file of Istio's values (README.md beside this file): the Helm values meshd's chart gets and
// the IstioOperator istioctl gets, meaning the same install.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { helmValuesFromIstioOperator } from '../../../src/config/values.js';
import type { Obj } from './owned.js';

export interface Case {
  file: string;
  /** How the file is fed to both sides, for the report. */
  how: string;
  /** Helm values for meshd's chart; undefined when the input installs no control plane. */
  helm: Obj | undefined;
  /** The IstioOperator for `istioctl manifest generate`. */
  iop: Obj;
}

export const iop = (spec: Obj): Obj =>
  ({ apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', spec });

/**
 * A Helm install of istiod's chart comes with the base chart, whose `defaultRevision: default` renders
 * istiod-default-validator; istioctl's default profile sets it to "". The IstioOperator asks for the base
 * chart's default, so both sides mean the same Helm install.
 */
const HELM_INSTALL = { defaultRevision: 'default' };

export function caseFor(path: string): Case {
  const file = basename(path);
  const text = readFileSync(path, 'utf8');
  const data = (parse(text) ?? {}) as Obj;
  if (file === 'istiod-chart-values.yaml') {
    // istioctl's schema for spec.values has no _internal_defaults_do_not_set; it takes it, as any key it does
    // not know, under spec.unvalidatedValues, which it merges into the values after validation.
    const { _internal_defaults_do_not_set: defaults, ...rest } = data;
    return {
      file,
      how: 'helm -f FILE; IstioOperator spec.values: FILE, its defaults block as spec.unvalidatedValues',
      helm: data,
      iop: iop({
        values: { ...HELM_INSTALL, ...rest },
        unvalidatedValues: { _internal_defaults_do_not_set: defaults },
      }),
    };
  }
  const m = /^helm-profiles-(.+)\.yaml$/.exec(file);
  if (m) {
    const name = m[1]!;
    // istioctl takes pilot.cni.enabled from components.cni.enabled: a profile that turns CNI on for
    // injection (openshift) is asked for with the CNI component on.
    const cni = (data.pilot as Obj | undefined)?.cni?.enabled === true;
    const components = cni ? { components: { cni: { enabled: true } } } : {};
    const cv = /^compatibility-version-(.+)$/.exec(name);
    if (cv) {
      return { file, how: `compatibilityVersion=${cv[1]} (IstioOperator spec.compatibilityVersion)`,
        helm: { compatibilityVersion: cv[1] },
        iop: iop({ compatibilityVersion: cv[1], values: HELM_INSTALL, ...components }) };
    }
    const platform = /^platform-(.+)$/.exec(name);
    if (platform) {
      return { file, how: `global.platform=${platform[1]}`, helm: { global: { platform: platform[1] } },
        iop: iop({ values: { ...HELM_INSTALL, global: { platform: platform[1] } }, ...components }) };
    }
    return { file, how: `profile=${name} (IstioOperator spec.values.profile)`, helm: { profile: name },
      iop: iop({ values: { ...HELM_INSTALL, profile: name }, ...components }) };
  }
  if (/^profiles-.+\.yaml$/.test(file)) {
    // An IstioOperator: istioctl reads it as is; meshd's chart gets the Helm values istioctl derives from it.
    const values = helmValuesFromIstioOperator(data);
    const pilot = (values.pilot as Obj | undefined)?.enabled !== false;
    const how = 'istioctl -f FILE; helm -f (its Helm values, as istioctl derives them)';
    return { file, how, helm: pilot ? values : undefined, iop: data };
  }
  throw new Error(`${file}: not a values file, helm profile or IstioOperator profile this script knows`);
}
