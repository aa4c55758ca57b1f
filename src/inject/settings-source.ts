// Where the injector's settings come from: operator files (--values, --mesh, --injector-config), else the
// istio and istio-sidecar-injector ConfigMaps in meshd's namespace (from the cluster or the local
// directory), else Istio's chart defaults with meshd's templates. Rebuilt whenever an input changes;
// a bad input keeps the last good settings and is reported.
import { readFileSync } from 'node:fs';
import { injectorConfigFromValues, injectorConfigFromYaml } from '../config/injector.js';
import { meshConfigFromYaml } from '../config/mesh.js';
import { defaultValues, mergeValues, normalizeValuesInput } from '../config/values.js';
import { parseYaml } from '../config/yaml.js';
import type { KubeObject, ObjectStore } from '../kube/store.js';
import { detectNativeSidecars, type NodeLister } from './native-sidecars.js';
import type { InjectionSettings, InjectorConfig, InjectorValues, MeshConfig, NativeSidecarMode, Pod } from '../types.js';

export interface SettingsSourceOptions {
  namespace: string;
  revision: string;
  nativeSidecars: NativeSidecarMode;
  /**
   * Whether something feeds the store Nodes (a cluster, or a local directory standing in for one); default
   * true. Without a source, auto mode is off, as istiod's DetectNativeSidecar without a Node client.
   */
  nodeSource?: boolean;
  compliancePolicy: string;
  /** PLATFORM=openshift: read UID/GID ranges from the pod's namespace. */
  openshift: boolean;
  files: { values?: string; mesh?: string; injectorConfig?: string };
  store: ObjectStore;
  onError: (what: string, err: Error) => void;
  onReload?: () => void;
}

interface Loaded {
  config: InjectorConfig;
  values: InjectorValues;
  mesh: MeshConfig;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function configMapData(obj: KubeObject | undefined): Record<string, string> {
  const data = obj?.data;
  return typeof data === 'object' && data !== null ? (data as Record<string, string>) : {};
}

/**
 * Settings as the source resolved them, with the native-sidecar mode itself: a caller that has no Node
 * lister (offline `meshd inject`, like `istioctl kube-inject`) decides again from the mode alone.
 */
export interface SourcedSettings extends InjectionSettings {
  nativeSidecarMode: NativeSidecarMode;
}

export class SettingsSource {
  private loaded: Loaded;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: SettingsSourceOptions) {
    this.loaded = this.load();
    this.unsubscribe = opts.store.onChange((kind) => {
      if (kind === 'ConfigMap') this.reload();
    });
  }

  private suffix(): string {
    return this.opts.revision && this.opts.revision !== 'default' ? `-${this.opts.revision}` : '';
  }

  private load(): Loaded {
    const { files, store, namespace } = this.opts;
    const injectorCM = configMapData(store.get('ConfigMap', namespace, `istio-sidecar-injector${this.suffix()}`));
    const meshCM = configMapData(store.get('ConfigMap', namespace, `istio${this.suffix()}`));
    const valuesText = files.values ? readFileSync(files.values, 'utf8') : injectorCM.values;
    const configText = files.injectorConfig ? readFileSync(files.injectorConfig, 'utf8') : injectorCM.config;
    const meshText = files.mesh ? readFileSync(files.mesh, 'utf8') : meshCM.mesh;

    let values = defaultValues();
    if (valuesText !== undefined && valuesText.trim() !== '') {
      const parsed = parseYaml(valuesText, 'injector values');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('injector values must be a map');
      values = mergeValues(values, normalizeValuesInput(parsed as Record<string, unknown>));
    }
    const config = configText !== undefined ? injectorConfigFromYaml(configText) : injectorConfigFromValues(values);
    const mesh = meshConfigFromYaml(meshText ?? '');
    return deepFreeze({ config, values, mesh });
  }

  /** Re-reads every input; on failure the previous settings stay in force. */
  reload(): void {
    try {
      this.loaded = this.load();
      this.opts.onReload?.();
    } catch (e) {
      this.opts.onError('injector settings', e as Error);
    }
  }

  get current(): Loaded {
    return this.loaded;
  }

  get revision(): string {
    return this.opts.revision;
  }

  /** istiod's webhook decision, with the store's Nodes (from the cluster or the local directory). */
  nativeSidecarsFor(pod: Pod): boolean {
    const { store } = this.opts;
    const lister: NodeLister = {
      get: (name) => store.get('Node', undefined, name),
      list: () => store.list('Node'),
    };
    const nodes = this.opts.nodeSource === false ? undefined : lister;
    return detectNativeSidecars(this.opts.nativeSidecars, nodes, pod.spec?.nodeName);
  }

  settingsFor(pod: Pod, namespace: string, proxyEnvs: Record<string, string>): SourcedSettings {
    const { config, values, mesh } = this.loaded;
    const settings: SourcedSettings = {
      config,
      values,
      mesh,
      revision: this.opts.revision === 'default' ? '' : this.opts.revision,
      nativeSidecars: this.nativeSidecarsFor(pod),
      nativeSidecarMode: this.opts.nativeSidecars,
      proxyEnvs,
      compliancePolicy: this.opts.compliancePolicy,
    };
    if (this.opts.openshift) {
      const ns = this.opts.store.get('Namespace', undefined, namespace);
      const ann = (ns?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
      if (ann) settings.openshiftNamespaceAnnotations = ann;
    }
    return settings;
  }

  close(): void {
    this.unsubscribe();
  }
}
