// Injection settings for tests: Istio's chart defaults with meshd's templates, adjustable per test.
import { injectorConfigFromValues } from '../../src/config/injector.js';
import { defaultMeshConfig } from '../../src/config/mesh.js';
import { defaultValues, mergeValues } from '../../src/config/values.js';
import type { InjectionSettings, MeshConfig } from '../../src/types.js';

export function testSettings(overrides: { values?: Record<string, unknown>; mesh?: Partial<MeshConfig>; native?: boolean } = {}): InjectionSettings {
  const values = mergeValues(defaultValues(), { global: { hub: 'example.test/istio', tag: '1.0.0' }, ...(overrides.values ?? {}) });
  return {
    config: injectorConfigFromValues(values),
    values,
    mesh: { ...defaultMeshConfig(), ...(overrides.mesh ?? {}) },
    revision: '',
    nativeSidecars: overrides.native ?? true,
    proxyEnvs: {},
    compliancePolicy: '',
  };
}
