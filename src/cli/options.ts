// Command-line and environment options shared by meshd's commands. Kept light (no Kubernetes client):
// every command, --help included, loads this module.
import type { ControlPlaneOptions } from '../controllers/control-plane.js';
import { nativeSidecarMode } from '../inject/native-sidecars.js';
import type { NativeSidecarMode } from '../types.js';
import { parseGoDuration } from '../validation/decode.js';
import { DEFAULT_DISCOVERY_OPTIONS, type DiscoveryOptions } from '../xds/ads.js';

export type ServeClusterOptions = Omit<ControlPlaneOptions, 'namespace' | 'revision'>;

export interface CommonOptions {
  namespace: string;
  revision: string;
  nativeSidecars: NativeSidecarMode;
  compliancePolicy: string;
  openshift: boolean;
  values?: string;
  mesh?: string;
  injectorConfig?: string;
  localDir?: string;
}

export const COMMON_FLAGS = {
  values: { type: 'string' },
  mesh: { type: 'string' },
  'injector-config': { type: 'string' },
  'local-dir': { type: 'string' },
  revision: { type: 'string' },
  namespace: { type: 'string' },
  'native-sidecars': { type: 'string' },
} as const;

/** --native-sidecars is checked; ENABLE_NATIVE_SIDECARS is read as istiod reads it (unknown: false, warned). */
function nativeMode(flag: string | undefined, env: string | undefined): NativeSidecarMode {
  if (flag !== undefined) {
    if (flag === 'auto' || flag === 'true' || flag === 'false') return flag;
    throw new Error(`--native-sidecars must be auto, true or false, not "${flag}"`);
  }
  const { mode, warning } = nativeSidecarMode(env);
  if (warning) process.stderr.write(`warning: ${warning}\n`);
  return mode;
}

export function commonOptions(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): CommonOptions {
  const str = (k: string): string | undefined => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  return {
    namespace: str('namespace') || env.POD_NAMESPACE || 'istio-system',
    revision: str('revision') || env.REVISION || 'default',
    nativeSidecars: nativeMode(str('native-sidecars'), env.ENABLE_NATIVE_SIDECARS),
    compliancePolicy: env.COMPLIANCE_POLICY ?? '',
    openshift: (env.PLATFORM ?? '').toLowerCase() === 'openshift',
    values: str('values'),
    mesh: str('mesh'),
    injectorConfig: str('injector-config'),
    localDir: str('local-dir'),
  };
}

export const CLUSTER_FLAGS = {
  'lease-duration': { type: 'string' },
  'renew-deadline': { type: 'string' },
  'retry-period': { type: 'string' },
} as const;

export function durationMs(value: string | undefined, def: number, name: string): number {
  if (value === undefined || value === '') return def;
  try {
    const ms = parseGoDuration(value) / 1e6;
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new Error(`${name} must be a positive duration such as 30s or 87600h, not "${value}"`);
}

/**
 * A delay in Go duration syntax ("5s", "1m30s", "0"), or a plain number of seconds as meshd took it
 * before (so `--shutdown-delay 5` keeps meaning five seconds). Zero is allowed: no delay.
 */
export function secondsOrDurationMs(value: string | undefined, defMs: number, name: string): number {
  if (value === undefined || value === '') return defMs;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  if (/^0+(\.0*)?[a-zµ]*$/.test(value)) return 0;
  return durationMs(value, defMs, name);
}

/** A TCP port number flag (0: any free port). */
export function portFlag(value: string | undefined, def: number, name: string): number {
  if (value === undefined) return def;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new Error(`${name} must be a port number from 0 to 65535, not "${value}"`);
  }
  return Number(value);
}

/** Authentication switches, with istiod's variables and defaults. */
export interface SecurityOptions {
  /** XDS_AUTH: authenticate xDS streams on the secure port (false: nobody is, and nothing secret is served). */
  xdsAuth: boolean;
  /** PILOT_ENABLE_XDS_IDENTITY_CHECK: a proxy's namespace and service account must be its identity's. */
  xdsIdentityCheck: boolean;
  /** ENABLE_DEBUG_ENDPOINT_AUTH: namespace rules for authenticated debug callers. */
  debugEndpointAuth: boolean;
  /** DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES, beside the system namespace. */
  debugAllowedNamespaces: string[];
}

function bool(v: string | undefined, def: boolean, name: string): boolean {
  if (v === undefined || v === '') return def;
  // Go's strconv.ParseBool, as istiod's env.Register reads booleans.
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`${name} must be true or false, not "${v}"`);
}

export function securityOptions(env: NodeJS.ProcessEnv): SecurityOptions {
  return {
    xdsAuth: bool(env.XDS_AUTH, true, 'XDS_AUTH'),
    xdsIdentityCheck: bool(env.PILOT_ENABLE_XDS_IDENTITY_CHECK, true, 'PILOT_ENABLE_XDS_IDENTITY_CHECK'),
    debugEndpointAuth: bool(env.ENABLE_DEBUG_ENDPOINT_AUTH, true, 'ENABLE_DEBUG_ENDPOINT_AUTH'),
    debugAllowedNamespaces: (env.DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES ?? '').split(',').map((n) => n.trim()).filter(Boolean),
  };
}

function integer(value: string | undefined, def: number, name: string): number {
  if (value === undefined || value === '') return def;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, not "${value}"`);
  return n;
}

/** xDS server limits from istiod's environment variables (and meshd's own where istiod has none). */
export function xdsOptions(env: NodeJS.ProcessEnv): Pick<DiscoveryOptions, 'cacheSize' | 'sendTimeoutMs' | 'maxNames'> {
  const cacheSize = integer(env.PILOT_XDS_CACHE_SIZE, DEFAULT_DISCOVERY_OPTIONS.cacheSize, 'PILOT_XDS_CACHE_SIZE');
  const maxNames = integer(env.MESHD_XDS_MAX_NAMES, DEFAULT_DISCOVERY_OPTIONS.maxNames, 'MESHD_XDS_MAX_NAMES');
  if (maxNames <= 0) throw new Error('MESHD_XDS_MAX_NAMES must be positive');
  const timeout = env.PILOT_XDS_SEND_TIMEOUT;
  const off = timeout !== undefined && /^0+(\.0*)?[a-zµ]*$/.test(timeout);
  return {
    // Like istiod's newLru: a size of 0 or less means 20,000.
    cacheSize: cacheSize > 0 ? cacheSize : 20_000,
    // 0 turns the timeout off, as in istiod.
    sendTimeoutMs: off ? 0 : durationMs(timeout, DEFAULT_DISCOVERY_OPTIONS.sendTimeoutMs, 'PILOT_XDS_SEND_TIMEOUT'),
    maxNames,
  };
}
