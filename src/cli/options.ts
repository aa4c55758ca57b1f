// Command-line and environment options shared by meshd's commands.
import type { NativeSidecarMode } from '../types.js';

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

function nativeMode(v: string | undefined): NativeSidecarMode {
  const m = (v || 'auto').toLowerCase();
  if (m === 'auto' || m === 'true' || m === 'false') return m;
  throw new Error(`--native-sidecars / ENABLE_NATIVE_SIDECARS must be auto, true or false, not "${v}"`);
}

export function commonOptions(flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): CommonOptions {
  const str = (k: string): string | undefined => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
  return {
    namespace: str('namespace') || env.POD_NAMESPACE || 'istio-system',
    revision: str('revision') || env.REVISION || 'default',
    nativeSidecars: nativeMode(str('native-sidecars') || env.ENABLE_NATIVE_SIDECARS),
    compliancePolicy: env.COMPLIANCE_POLICY ?? '',
    openshift: (env.PLATFORM ?? '').toLowerCase() === 'openshift',
    values: str('values'),
    mesh: str('mesh'),
    injectorConfig: str('injector-config'),
    localDir: str('local-dir'),
  };
}
