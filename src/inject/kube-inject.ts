// `meshd inject -f`: injects the pod templates of workloads in a multi-document YAML stream, offline,
// like `istioctl kube-inject`. Kinds without a pod template pass through unchanged. Offline there is no
// Node lister, so native sidecars only when the mode says true (istio inject.go IntoObject).
import { stringify } from 'yaml';
import { parseYamlStream } from '../config/yaml.js';
import type { InjectionSettings, NativeSidecarMode, Pod } from '../types.js';
import { injectPod } from './inject.js';
import { detectNativeSidecars } from './native-sidecars.js';
import type { WorkloadMeta } from './workload.js';
import { isObj } from '../util/json.js';

type Obj = Record<string, unknown>;

/** Where a workload keeps its pod template; undefined for kinds that have none. */
function podTemplateOf(obj: Obj): Obj | undefined {
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  switch (obj.kind) {
    case 'Deployment':
    case 'DaemonSet':
    case 'StatefulSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
    case 'DeploymentConfig':
      return spec && isObj(spec.template) ? spec.template : undefined;
    case 'CronJob': {
      const jt = spec && isObj(spec.jobTemplate) ? spec.jobTemplate : undefined;
      const js = jt && isObj(jt.spec) ? jt.spec : undefined;
      return js && isObj(js.template) ? js.template : undefined;
    }
    default:
      return undefined;
  }
}

type WithMode = InjectionSettings & { nativeSidecarMode?: NativeSidecarMode };

/** Settings for one pod; when they carry the mode (a SettingsSource's), native sidecars are decided here. */
export type OfflineSettingsProvider = (pod: Pod, namespace: string) => WithMode;

function offlineSettings(s: WithMode): InjectionSettings {
  if (s.nativeSidecarMode === undefined) return s;
  return { ...s, nativeSidecars: detectNativeSidecars(s.nativeSidecarMode, undefined) };
}

export interface KubeInjectOutput {
  yaml: string;
  warnings: string[];
}

export interface KubeInjectResult {
  objects: unknown[];
  warnings: string[];
}

/** Injects every workload in `objects`; throws (naming the object) when one must be denied. */
export function kubeInjectObjects(objects: unknown[], settingsFor: OfflineSettingsProvider): KubeInjectResult {
  const warnings: string[] = [];
  const one = (obj: unknown): unknown => {
    if (!isObj(obj)) return obj;
    if (obj.kind === 'List' && Array.isArray(obj.items)) return { ...obj, items: obj.items.map(one) };
    const meta = isObj(obj.metadata) ? obj.metadata : {};
    const name = String(meta.name ?? '');
    const namespace = String(meta.namespace ?? '');
    const label = `${String(obj.kind)} "${namespace ? `${namespace}/` : ''}${name}"`;
    const inject = (pod: Pod, workload: WorkloadMeta): Pod => {
      const settings = offlineSettings(settingsFor(pod, namespace));
      const result = injectPod(pod, namespace, settings, (m) => warnings.push(`${label}: ${m}`), workload);
      if (result.kind === 'skipped') {
        warnings.push(`===> Skipping injection because ${label} has ${result.reason === 'hostNetwork' ? 'host networking enabled' : 'sidecar injection disabled'}`);
        return pod;
      }
      return result.pod;
    };
    const workload: WorkloadMeta = { name, namespace, kind: String(obj.kind), apiVersion: String(obj.apiVersion ?? '') };
    if (obj.kind === 'Pod') return inject(structuredClone(obj) as Pod, workload);
    const template = podTemplateOf(obj);
    if (!template) return obj;
    const out = structuredClone(obj);
    const tpl = podTemplateOf(out)!;
    const injected = inject({ metadata: (tpl.metadata as Pod['metadata']) ?? {}, spec: (tpl.spec as Pod['spec']) ?? {} }, workload);
    // The namespace was only filled in for the injector's benefit.
    if (injected.metadata && !isObj(template.metadata)) delete injected.metadata.namespace;
    else if (injected.metadata && isObj(template.metadata) && template.metadata.namespace === undefined) delete injected.metadata.namespace;
    tpl.metadata = injected.metadata;
    tpl.spec = injected.spec;
    return out;
  };
  return { objects: objects.map(one), warnings };
}

export function kubeInjectYaml(text: string, settingsFor: OfflineSettingsProvider): KubeInjectOutput {
  const { objects, warnings } = kubeInjectObjects(parseYamlStream(text, 'input'), settingsFor);
  const yaml = objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
  return { yaml, warnings };
}
