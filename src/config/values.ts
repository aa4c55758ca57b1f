// Istio Helm values that the injection templates read, with the istiod chart's defaults. Operators pass
// their own values (the `values` key of istio-sidecar-injector, or a Helm values file); meshd deep-merges
// them over these defaults like Helm does.
import type { InjectorValues } from '../types.js';

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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm-style deep merge: maps merge key by key, anything else (lists, scalars, null) replaces. */
export function mergeValues(base: InjectorValues, overlay: Record<string, unknown>): InjectorValues {
  const out: Record<string, unknown> = structuredClone(base);
  for (const [k, v] of Object.entries(overlay)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    const cur = out[k];
    out[k] = isRecord(cur) && isRecord(v) ? mergeValues(cur, v) : structuredClone(v);
  }
  return out;
}

/**
 * Reads operator-supplied values. Accepts the injector ConfigMap's `values` JSON, a Helm values file of
 * the istiod chart, or an IstioOperator (spec.values); `cni` at the top level is moved under `pilot`
 * as the istiod chart does when it renders the ConfigMap.
 */
export function normalizeValuesInput(input: Record<string, unknown>): Record<string, unknown> {
  let v = input;
  if (v.kind === 'IstioOperator' && isRecord(v.spec)) v = isRecord(v.spec.values) ? v.spec.values : {};
  const out = { ...v };
  if (isRecord(out.cni) || isRecord(out.env)) {
    const pilot = isRecord(out.pilot) ? { ...out.pilot } : {};
    if (isRecord(out.cni)) pilot.cni = out.cni;
    if (isRecord(out.env)) pilot.env = out.env;
    out.pilot = pilot;
    delete out.cni;
    delete out.env;
  }
  return out;
}
