// Validation of the per-pod annotations the injector reads (istio pkg/kube/inject/validate.go). An
// invalid value denies the pod, as istiod does, rather than injecting a broken sidecar.
import { defaultProxyConfig, mergeProxyConfig, parseProxyConfigAnnotation } from '../config/mesh.js';
import { canonicalQuantity } from '../kube/quantity.js';
import { isCIDR } from '../net/ip.js';

type Check = (value: string) => void;

function parsePort(s: string): number {
  const t = s.trim();
  if (!/^\d+$/.test(t) || Number(t) > 65535) throw new Error(`failed parsing port '${s}': strconv.ParseUint: parsing "${t}": invalid syntax`);
  return Number(t);
}

function portList(name: string): Check {
  return (ports) => {
    const t = ports.trim();
    if (t === '') return;
    for (const p of t.split(',')) {
      try {
        parsePort(p);
      } catch (e) {
        throw new Error(`${name} invalid: failed parsing port '${p}': ${(e as Error).message}`);
      }
    }
  };
}

function cidrList(name: string, allowStar: boolean): Check {
  return (ranges) => {
    if (allowStar && ranges === '*') return;
    if (ranges.length === 0) return;
    for (const c of ranges.split(',')) {
      if (!isCIDR(c)) throw new Error(`${name} invalid: failed parsing cidr '${c}': netip.ParsePrefix("${c}"): invalid prefix`);
    }
  };
}

function interfaces(value: string): void {
  if (value.length === 0) return;
  for (const raw of value.split(',')) {
    const iface = raw.trim();
    if (iface.length === 0) throw new Error('empty interface name');
    if (iface.length > 15) throw new Error(`interface name "${iface}" too long (max 15 chars)`);
    if (!/^[a-zA-Z][a-zA-Z0-9_.-]*$/.test(iface)) throw new Error(`interface name "${iface}" contains invalid characters`);
  }
}

function uint32(value: string): void {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new Error(`strconv.ParseUint: parsing "${value}": invalid syntax`);
}

const GO_BOOLS = ['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'];

/** strconv.ParseBool. */
export function parseGoBool(value: string): boolean | undefined {
  if (!GO_BOOLS.includes(value)) return undefined;
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

function bool(value: string): void {
  if (parseGoBool(value) === undefined) throw new Error(`strconv.ParseBool: parsing "${value}": invalid syntax`);
}

function quantity(value: string): void {
  if ([...value].some((c) => /\p{Cc}/u.test(c))) throw new Error('value contains control characters');
  canonicalQuantity(value);
}

function interceptionMode(mode: string): void {
  if (!['REDIRECT', 'TPROXY', 'NONE'].includes(mode)) throw new Error(`interceptionMode invalid, use REDIRECT,TPROXY,NONE: ${mode}`);
}

const DURATION = /^-?\d+(\.\d{1,9})?s$/;

function hostPort(addr: string): void {
  const i = addr.lastIndexOf(':');
  if (i <= 0) throw new Error(`missing port in address ${addr}`);
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error(`missing host in address ${addr}`);
  parsePort(addr.slice(i + 1));
}

/** Validates a proxy.istio.io/config value the way istiod validates it: decode, then check the merged config. */
export function validateProxyConfigAnnotation(value: string): void {
  const pc = mergeProxyConfig(defaultProxyConfig(), parseProxyConfigAnnotation(value));
  const errs: string[] = [];
  for (const f of ['drainDuration', 'terminationDrainDuration', 'fileFlushInterval']) {
    const d = pc[f];
    if (d !== undefined && (typeof d !== 'string' || !DURATION.test(d))) errs.push(`${f}: invalid google.protobuf.Duration value ${JSON.stringify(d)}`);
  }
  if (typeof pc.drainDuration === 'string' && DURATION.test(pc.drainDuration) && parseFloat(pc.drainDuration) < 0.001)
    errs.push('duration must be greater than 1ms');
  if (!pc.configPath) errs.push('config path must be set');
  if (!pc.binaryPath) errs.push('binary path must be set');
  if (typeof pc.discoveryAddress !== 'string' || pc.discoveryAddress === '') errs.push('discovery address must be set to the proxy discovery service');
  else {
    try {
      hostPort(pc.discoveryAddress);
    } catch (e) {
      errs.push(`invalid discovery address: ${(e as Error).message}`);
    }
  }
  for (const f of ['proxyAdminPort', 'statusPort']) {
    const p = pc[f];
    if (p !== undefined && (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535)) errs.push(`${f}: port number ${String(p)} must be in the range 1..65535`);
  }
  if (pc.statNameLength !== undefined && (typeof pc.statNameLength !== 'number' || pc.statNameLength < 0)) errs.push('statNameLength must be >= 0');
  if (pc.concurrency !== undefined && pc.concurrency !== null && (typeof pc.concurrency !== 'number' || pc.concurrency < 0))
    errs.push('concurrency must be greater than or equal to 0');
  if (pc.interceptionMode !== undefined && !['REDIRECT', 'TPROXY', 'NONE'].includes(String(pc.interceptionMode)))
    errs.push(`interceptionMode: invalid value ${JSON.stringify(pc.interceptionMode)} for enum type istio.mesh.v1alpha1.ProxyConfig.InboundInterceptionMode`);
  if (pc.proxyMetadata !== undefined) {
    if (typeof pc.proxyMetadata !== 'object' || pc.proxyMetadata === null || Array.isArray(pc.proxyMetadata)) errs.push('proxyMetadata must be a map');
    else for (const [k, v] of Object.entries(pc.proxyMetadata)) if (typeof v !== 'string') errs.push(`proxyMetadata.${k} must be a string`);
  }
  if (errs.length > 0) throw new Error(errs.join('; '));
}

const CHECKS: Record<string, Check> = {
  'sidecar.istio.io/interceptionMode': interceptionMode,
  'status.sidecar.istio.io/port': (v) => {
    try {
      parsePort(v);
    } catch (e) {
      throw new Error(`excludeInboundPorts invalid: ${(e as Error).message}`);
    }
  },
  'readiness.status.sidecar.istio.io/initialDelaySeconds': uint32,
  'readiness.status.sidecar.istio.io/periodSeconds': uint32,
  'readiness.status.sidecar.istio.io/failureThreshold': uint32,
  'traffic.sidecar.istio.io/includeOutboundIPRanges': cidrList('includeIPRanges', true),
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': cidrList('excludeIPRanges', false),
  'traffic.sidecar.istio.io/includeInboundPorts': (v) => (v === '*' ? undefined : portList('includeInboundPorts')(v)),
  'traffic.sidecar.istio.io/excludeInboundPorts': portList('excludeInboundPorts'),
  'traffic.sidecar.istio.io/excludeOutboundPorts': portList('excludeOutboundPorts'),
  'traffic.sidecar.istio.io/excludeInterfaces': interfaces,
  'traffic.sidecar.istio.io/kubevirtInterfaces': interfaces,
  'istio.io/reroute-virtual-interfaces': interfaces,
  'prometheus.istio.io/merge-metrics': bool,
  'proxy.istio.io/config': validateProxyConfigAnnotation,
  'sidecar.istio.io/proxyCPU': quantity,
  'sidecar.istio.io/proxyMemory': quantity,
  'sidecar.istio.io/proxyCPULimit': quantity,
  'sidecar.istio.io/proxyMemoryLimit': quantity,
};

/** Throws one error naming every invalid annotation. */
export function validateAnnotations(annotations: Record<string, string>): void {
  const errs: string[] = [];
  for (const name of Object.keys(annotations).sort()) {
    const check = CHECKS[name];
    if (!check) continue;
    const value = annotations[name]!;
    try {
      check(value);
    } catch (e) {
      errs.push(`invalid value '${value}' for annotation '${name}': ${(e as Error).message}`);
    }
  }
  if (errs.length === 1) throw new Error(errs[0]);
  if (errs.length > 1) throw new Error(`${errs.length} errors occurred:\n${errs.map((e) => `\t* ${e}`).join('\n')}`);
}
