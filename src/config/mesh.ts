// Istio MeshConfig / ProxyConfig: defaults, merging and the protojson form of ProxyConfig
// (mirrors istio pkg/config/mesh/mesh.go and pkg/kube/inject/template.go cleanProxyConfig).
import type { MeshConfig, ProxyConfig } from '../types.js';
import { parseYamlObject } from './yaml.js';
import { isObj } from '../util/json.js';

export function defaultProxyConfig(): ProxyConfig {
  return {
    configPath: './etc/istio/proxy',
    serviceCluster: 'istio-proxy',
    drainDuration: '45s',
    terminationDrainDuration: '5s',
    proxyAdminPort: 15000,
    controlPlaneAuthPolicy: 'MUTUAL_TLS',
    discoveryAddress: 'istiod.istio-system.svc:15012',
    binaryPath: '/usr/local/bin/envoy',
    statNameLength: 189,
    statusPort: 15020,
    interceptionMode: 'REDIRECT',
  };
}

export function defaultMeshConfig(): MeshConfig {
  return {
    enableTracing: true,
    accessLogFile: '',
    accessLogEncoding: 'TEXT',
    protocolDetectionTimeout: '0s',
    ingressService: 'istio-ingressgateway',
    ingressControllerMode: 'STRICT',
    ingressClass: 'istio',
    trustDomain: 'cluster.local',
    trustDomainAliases: [],
    enableAutoMtls: true,
    outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
    inboundTrafficPolicy: { mode: 'PASSTHROUGH' },
    localityLbSetting: { enabled: true },
    defaultConfig: defaultProxyConfig(),
    rootNamespace: 'istio-system',
    proxyListenPort: 15001,
    proxyInboundListenPort: 15006,
    connectTimeout: '10s',
    defaultServiceExportTo: ['*'],
    defaultVirtualServiceExportTo: ['*'],
    defaultDestinationRuleExportTo: ['*'],
    dnsRefreshRate: '60s',
    enablePrometheusMerge: true,
    defaultProviders: {},
    extensionProviders: [
      { name: 'prometheus', prometheus: {} },
      { name: 'stackdriver', stackdriver: {} },
      { name: 'envoy', envoyFileAccessLog: { path: '/dev/stdout' } },
    ],
  };
}

/**
 * Overlays a ProxyConfig fragment on a base: fields set in the overlay replace the base's, except
 * proxyMetadata, whose keys are merged (overlay wins), as istio's MergeProxyConfig does.
 */
export function mergeProxyConfig(base: ProxyConfig, overlay: Readonly<Record<string, unknown>>): ProxyConfig {
  const out: ProxyConfig = { ...structuredClone(base), ...structuredClone(overlay) };
  if (isObj(overlay.proxyMetadata) || isObj(base.proxyMetadata)) {
    out.proxyMetadata = { ...(base.proxyMetadata ?? {}), ...((overlay.proxyMetadata as Record<string, string>) ?? {}) };
  }
  return out;
}

/** Applies a mesh config YAML document (the `mesh` key of the istio ConfigMap) over Istio's defaults. */
export function meshConfigFromYaml(yamlText: string): MeshConfig {
  const parsed = yamlText.trim() === '' ? {} : parseYamlObject(yamlText, 'mesh config');
  const mesh: MeshConfig = { ...defaultMeshConfig(), ...parsed };
  const dc = parsed.defaultConfig;
  if (dc !== undefined && !isObj(dc)) throw new Error('mesh config: defaultConfig must be a map');
  mesh.defaultConfig = mergeProxyConfig(defaultProxyConfig(), dc ?? {});
  return mesh;
}

/** The effective ProxyConfig of a pod: mesh defaultConfig overlaid with its proxy.istio.io/config annotation. */
export function proxyConfigForPod(mesh: MeshConfig, annotation: string | undefined): ProxyConfig {
  const base = mesh.defaultConfig ?? defaultProxyConfig();
  if (annotation === undefined) return base;
  return mergeProxyConfig(base, parseProxyConfigAnnotation(annotation));
}

/** The last annotation parsed: one injection reads it three times, and parsing is its costliest step. */
let lastParsed: { text: string; value?: Readonly<Record<string, unknown>>; error?: Error } | undefined;

/** The annotation's fields (shared between callers: copy before changing, as mergeProxyConfig does). */
export function parseProxyConfigAnnotation(text: string): Readonly<Record<string, unknown>> {
  if (lastParsed?.text !== text) {
    try {
      lastParsed = { text, value: decodeProxyConfigAnnotation(text) };
    } catch (e) {
      lastParsed = { text, error: e as Error };
    }
  }
  if (lastParsed.error) throw lastParsed.error;
  return lastParsed.value!;
}

function decodeProxyConfigAnnotation(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const obj = parseYamlObject(text, 'proxy config');
  for (const key of Object.keys(obj)) {
    if (!PROXY_CONFIG_FIELDS.has(key)) throw new Error(`unknown field "${key}" in istio.mesh.v1alpha1.ProxyConfig`);
  }
  return obj;
}

/** ProxyConfig fields in protobuf declaration order (protojson writes them in this order). */
const PROXY_CONFIG_ORDER = [
  'configPath',
  'binaryPath',
  'serviceCluster',
  'tracingServiceName',
  'drainDuration',
  'discoveryAddress',
  'discoveryRefreshDelay',
  'zipkinAddress',
  'statsdUdpAddress',
  'envoyMetricsServiceAddress',
  'proxyAdminPort',
  'availabilityZone',
  'controlPlaneAuthPolicy',
  'customConfigFile',
  'statNameLength',
  'concurrency',
  'proxyBootstrapTemplatePath',
  'interceptionMode',
  'tracing',
  'sds',
  'envoyAccessLogService',
  'envoyMetricsService',
  'proxyMetadata',
  'runtimeValues',
  'statusPort',
  'extraStatTags',
  'gatewayTopology',
  'terminationDrainDuration',
  'meshId',
  'readinessProbe',
  'proxyStatsMatcher',
  'holdApplicationUntilProxyStarts',
  'caCertificatesPem',
  'image',
  'privateKeyProvider',
  'proxyHeaders',
  'fileFlushInterval',
  'fileFlushMinSizeKb',
  'statsCompression',
  'connectionSettings',
] as const;
const PROXY_CONFIG_FIELDS = new Set<string>(PROXY_CONFIG_ORDER);

/** Wrapper-typed (google.protobuf.*Value) fields: written even when zero, as protojson does. */
const WRAPPER_FIELDS = new Set(['concurrency', 'holdApplicationUntilProxyStarts', 'statsCompression']);
const MAP_FIELDS = new Set(['proxyMetadata', 'runtimeValues']);
/** Enum fields whose zero value protojson omits. */
const ENUM_ZERO: Record<string, string> = { interceptionMode: 'REDIRECT', controlPlaneAuthPolicy: 'NONE' };

/** Fields removed when equal to the default, so PROXY_CONFIG stays small (istio cleanProxyConfig). */
const CLEANED_FIELDS = [
  'configPath',
  'binaryPath',
  'controlPlaneAuthPolicy',
  'serviceCluster',
  'drainDuration',
  'terminationDrainDuration',
  'discoveryAddress',
  'envoyMetricsService',
  'envoyAccessLogService',
  'tracing',
  'proxyAdminPort',
  'statNameLength',
  'statusPort',
  'concurrency',
] as const;

/** PROXY_CONFIG env value: the non-default ProxyConfig fields in protojson form. */
const DEFAULT_PROXY_CONFIG = Object.freeze(defaultProxyConfig());

export function proxyConfigToJSON(pc: ProxyConfig): string {
  const defaults = DEFAULT_PROXY_CONFIG;
  const out: Record<string, unknown> = {};
  for (const key of PROXY_CONFIG_ORDER) {
    const v = pc[key];
    if (v === undefined || v === null) continue;
    if ((CLEANED_FIELDS as readonly string[]).includes(key) && deepEqual(v, defaults[key])) continue;
    if (!WRAPPER_FIELDS.has(key) && isProtoZero(v)) continue;
    if (MAP_FIELDS.has(key) && typeof v === 'object' && Object.keys(v).length === 0) continue;
    if (ENUM_ZERO[key] === v) continue;
    // protojson writes map entries sorted by key.
    out[key] = MAP_FIELDS.has(key) && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v;
  }
  return JSON.stringify(out);
}

function isProtoZero(v: unknown): boolean {
  if (v === '' || v === 0 || v === false) return true;
  return Array.isArray(v) && v.length === 0;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
