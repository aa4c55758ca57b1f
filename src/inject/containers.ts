// Container lookup and re-ordering helpers shared by the injection steps.
import type { Container, Pod } from '../types.js';

export const PROXY = 'istio-proxy';
export const INIT = 'istio-init';
export const VALIDATION = 'istio-validation';
export const ENABLE_CORE_DUMP = 'enable-core-dump';

export function findContainer(pod: Pod, name: string): Container | undefined {
  return pod.spec?.containers?.find((c) => c.name === name) ?? pod.spec?.initContainers?.find((c) => c.name === name);
}

export function allContainers(pod: Pod): Container[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
}

export type Placement = 'first' | 'last' | 'remove';

/** Moves (or removes) the container called `name`; the list is returned unchanged if it is absent. */
export function placeContainer(list: Container[] | undefined, name: string, where: Placement): Container[] {
  const rest = (list ?? []).filter((c) => c.name !== name);
  const match = (list ?? []).find((c) => c.name === name);
  if (!match || where === 'remove') return rest;
  return where === 'first' ? [match, ...rest] : [...rest, match];
}
