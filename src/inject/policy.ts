// Whether a pod gets a sidecar (istio pkg/kube/inject/inject.go injectRequired). Namespace labels are not
// read here: the MutatingWebhookConfiguration's selectors decide which pods reach the webhook at all.
import { selectorIsEmpty, selectorMatches } from '../kube/label-selector.js';
import type { InjectorConfig, Pod } from '../types.js';

export const IGNORED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

export type SkipReason = 'hostNetwork' | 'ignoredNamespace' | 'policy';

/** Returns null when the pod must be injected, or why it is skipped. */
export function injectionSkipReason(config: InjectorConfig, pod: Pod, warn: (msg: string) => void = () => {}): SkipReason | null {
  const meta = pod.metadata ?? {};
  if (pod.spec?.hostNetwork === true) return 'hostNetwork';
  if (IGNORED_NAMESPACES.includes(meta.namespace ?? '')) return 'ignoredNamespace';
  const labels = meta.labels ?? {};
  // The label wins over the deprecated annotation of the same name.
  let selector = meta.annotations?.['sidecar.istio.io/inject'] ?? '';
  if (Object.prototype.hasOwnProperty.call(labels, 'sidecar.istio.io/inject')) selector = labels['sidecar.istio.io/inject']!;
  let useDefault = false;
  let inject = false;
  if (selector === 'true') inject = true;
  else if (selector === 'false') inject = false;
  else {
    if (selector !== '') warn(`invalid value for sidecar.istio.io/inject: "${selector}"; only "true" and "false" are accepted, using the default policy`);
    useDefault = true;
  }
  const matchAny = (selectors: InjectorConfig['neverInjectSelector'], what: string): boolean =>
    selectors.some((s) => {
      try {
        return !selectorIsEmpty(s) && selectorMatches(s, labels);
      } catch (e) {
        warn(`invalid selector in ${what}: ${(e as Error).message}`);
        return false;
      }
    });
  if (useDefault && matchAny(config.neverInjectSelector, 'neverInjectSelector')) {
    useDefault = false;
    inject = false;
  }
  if (useDefault && matchAny(config.alwaysInjectSelector, 'alwaysInjectSelector')) {
    useDefault = false;
    inject = true;
  }
  let required: boolean;
  if (config.policy === 'enabled') required = useDefault ? true : inject;
  else if (config.policy === 'disabled') required = useDefault ? false : inject;
  else {
    warn(`illegal injection policy "${config.policy}": must be enabled or disabled; injection is off`);
    required = false;
  }
  return required ? null : 'policy';
}
