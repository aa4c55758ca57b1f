// Istio Helm values that the injection templates read, with the istiod chart's defaults. Operators pass
// their own values (the `values` key of istio-sidecar-injector, or a Helm values file); meshd deep-merges
// them over these defaults like Helm does.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { InjectorValues } from '../types.js';
import { isObj } from '../util/json.js';

export const DEFAULT_HUB = 'docker.io/istio';
export const DEFAULT_TAG = '1.28.0';

export function defaultValues(): InjectorValues {
  return {
    gateways: { seccompProfile: {}, securityContext: {} },
    global: {
      caAddress: '',
      caName: '',
      hub: DEFAULT_HUB,
      tag: DEFAULT_TAG,
      variant: '',
      imagePullPolicy: '',
      imagePullSecrets: [],
      istioNamespace: 'istio-system',
      logAsJson: false,
      logging: { level: 'default:info' },
      meshID: '',
      mountMtlsCerts: false,
      multiCluster: { clusterName: '' },
      nativeNftables: false,
      network: '',
      pilotCertProvider: 'istiod',
      proxy: {
        autoInject: 'enabled',
        clusterDomain: 'cluster.local',
        componentLogLevel: 'misc:error',
        excludeIPRanges: '',
        excludeInboundPorts: '',
        excludeOutboundPorts: '',
        image: 'proxyv2',
        includeIPRanges: '*',
        includeInboundPorts: '*',
        includeOutboundPorts: '',
        logLevel: 'warning',
        outlierLogPath: '',
        privileged: false,
        readinessFailureThreshold: 4,
        readinessInitialDelaySeconds: 0,
        readinessPeriodSeconds: 15,
        resources: { limits: { cpu: '2000m', memory: '1024Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        seccompProfile: {},
        startupProbe: { enabled: true, failureThreshold: 600 },
        statusPort: 15020,
        tracer: 'none',
      },
      proxy_init: { forceApplyIptables: false, image: 'proxyv2' },
      sds: { token: { aud: 'istio-ca' } },
      sts: { servicePort: 0 },
    },
    pilot: { cni: { enabled: false, provider: 'default' }, env: {} },
    revision: '',
    sidecarInjectorWebhook: {
      alwaysInjectSelector: [],
      defaultTemplates: [],
      enableNamespacesByDefault: false,
      injectedAnnotations: {},
      neverInjectSelector: [],
      reinvocationPolicy: 'Never',
      rewriteAppHTTPProbe: true,
      templates: {},
    },
  };
}

/** Helm-style deep merge: maps merge key by key, anything else (lists, scalars, null) replaces. */
export function mergeValues<T extends Record<string, unknown>>(base: T, overlay: Record<string, unknown>): T {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(overlay)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    const cur = out[k];
    out[k] = isObj(cur) && isObj(v) ? mergeValues(cur, v) : structuredClone(v);
  }
  return out as T;
}

// The profile files of meshd's chart (charts/meshd/files), the one copy of what `profile`,
// `compatibilityVersion` and `platform` layer in, read by the chart and by meshd alike.
const PROFILE_DIR = fileURLToPath(new URL('../../charts/meshd/files/', import.meta.url));

const PROFILE_PREFIX = {
  profile: 'profile-',
  'compatibility version': 'profile-compatibility-version-',
  platform: 'profile-platform-',
};

function profileFile(kind: keyof typeof PROFILE_PREFIX, name: unknown): Record<string, unknown> {
  const file = PROFILE_PREFIX[kind];
  const ok = (typeof name === 'string' || typeof name === 'number') && /^[A-Za-z0-9._-]+$/.test(String(name));
  const path = join(PROFILE_DIR, `${file}${String(name)}.yaml`);
  if (!ok || !existsSync(path)) throw new Error(`unknown ${kind} ${String(name)}`);
  const parsed: unknown = parse(readFileSync(path, 'utf8'));
  return isObj(parsed) ? parsed : {};
}

const truthy = (v: unknown): boolean => v !== undefined && v !== null && v !== '' && v !== false && v !== 0;
const firstSet = (...vs: unknown[]): unknown => vs.find(truthy);

/**
 * Helm values as istiod's chart sees them once it has layered them: its defaults block
 * (`_internal_defaults_do_not_set`, when the input carries one) < profile (`profile` / `global.profile`) <
 * compatibility version < platform (`platform` / `global.platform`) < the values given, then `pilot.*` merged
 * over the top-level keys (so `pilot.cni` and a top-level `cni` combine). An unknown name is an error, as in
 * Istio's chart.
 */
export function layerHelmValues(input: Record<string, unknown>): Record<string, unknown> {
  const { _internal_defaults_do_not_set: defaults, ...given } = input;
  const global = isObj(given.global) ? given.global : {};
  let layer: Record<string, unknown> = {};
  const profile = firstSet(given.profile, global.profile);
  if (profile !== undefined) layer = profileFile('profile', profile);
  if (truthy(given.compatibilityVersion)) {
    layer = mergeValues(layer, profileFile('compatibility version', given.compatibilityVersion));
  }
  const platform = firstSet(given.platform, global.platform);
  if (platform !== undefined) layer = mergeValues(layer, profileFile('platform', platform));
  const merged = mergeValues(mergeValues(isObj(defaults) ? defaults : {}, layer), given);
  return isObj(merged.pilot) ? mergeValues(merged, merged.pilot) : merged;
}

// What an IstioOperator's spec.profile adds (manifests/profiles in Istio): the parts that reach istiod.
// All build on `default`, whose values blank the base chart's defaultRevision.
const OPERATOR_PROFILES: Record<string, Record<string, unknown>> = {
  default: {},
  minimal: {},
  empty: { components: { pilot: { enabled: false } } },
  demo: { values: { profile: 'demo' } },
  ambient: { components: { cni: { enabled: true } }, values: { profile: 'ambient' } },
  preview: { values: { profile: 'preview' } },
  remote: { values: { profile: 'remote' } },
  stable: { values: { profile: 'stable' } },
  openshift: { components: { cni: { enabled: true } }, values: { global: { platform: 'openshift' } } },
  'openshift-ambient': {
    components: { cni: { enabled: true } },
    values: { profile: 'ambient', global: { platform: 'openshift' } },
  },
};

/**
 * The Helm values `istioctl install` hands istiod's chart for an IstioOperator: its spec.profile under the
 * spec, spec.hub / tag / revision / meshConfig / compatibilityVersion moved into the values, whether the
 * pilot and cni components are enabled (pilot.enabled, pilot.cni.enabled), and spec.values over all that.
 */
export function helmValuesFromIstioOperator(iop: Record<string, unknown>): Record<string, unknown> {
  const given = isObj(iop.spec) ? iop.spec : {};
  const name = typeof given.profile === 'string' && given.profile !== '' ? given.profile : 'default';
  const profile = Object.hasOwn(OPERATOR_PROFILES, name) ? OPERATOR_PROFILES[name]! : undefined;
  if (!profile) throw new Error(`IstioOperator profile ${JSON.stringify(name)} not found`);
  const base: Record<string, unknown> = { values: { defaultRevision: '' } };
  const spec = mergeValues(mergeValues(base, profile), given);
  const userValues = isObj(given.values) ? given.values : {};
  let values = isObj(spec.values) ? spec.values : {};
  const moved: Record<string, unknown> = {};
  if (spec.hub !== undefined) moved.global = { hub: spec.hub };
  if (spec.tag !== undefined) moved.global = { ...(moved.global as object), tag: String(spec.tag) };
  if (spec.revision !== undefined) moved.revision = spec.revision;
  if (isObj(spec.meshConfig)) moved.meshConfig = spec.meshConfig;
  if (spec.compatibilityVersion !== undefined) moved.compatibilityVersion = String(spec.compatibilityVersion);
  const components = isObj(spec.components) ? spec.components : {};
  const enabled = (c: string): boolean => isObj(components[c]) && components[c].enabled === true;
  // The pilot component is on unless a profile or the spec turns it off.
  const pilotOn = !isObj(components.pilot) || components.pilot.enabled !== false;
  moved.pilot = { enabled: pilotOn, cni: { enabled: enabled('cni') } };
  values = mergeValues(mergeValues(values, moved), userValues);
  return values;
}

/**
 * Reads operator-supplied values as the injector sees them. Accepts the injector ConfigMap's `values` JSON,
 * a Helm values file of the istiod chart (layered as the chart layers it: profile, compatibilityVersion,
 * platform, `pilot.*`), or an IstioOperator (translated as istioctl does). Keeps what istiod's chart writes
 * into the ConfigMap: global, sidecarInjectorWebhook, revision, pilot.cni / pilot.env and
 * gateways.securityContext / seccompProfile.
 */
export function normalizeValuesInput(input: Record<string, unknown>): Record<string, unknown> {
  const helm = input.kind === 'IstioOperator' ? helmValuesFromIstioOperator(input) : input;
  const v = layerHelmValues(helm);
  const out: Record<string, unknown> = {};
  for (const k of ['global', 'sidecarInjectorWebhook', 'revision'] as const) {
    if (v[k] !== undefined) out[k] = v[k];
  }
  const pilot: Record<string, unknown> = {};
  if (v.cni !== undefined) pilot.cni = v.cni;
  if (v.env !== undefined) pilot.env = v.env;
  if (Object.keys(pilot).length > 0) out.pilot = pilot;
  if (isObj(v.gateways)) {
    const gw: Record<string, unknown> = {};
    for (const k of ['securityContext', 'seccompProfile']) {
      if (v.gateways[k] !== undefined) gw[k] = v.gateways[k];
    }
    out.gateways = gw;
  }
  return out;
}
