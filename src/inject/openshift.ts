// OpenShift: the proxy runs with the namespace's pre-allocated UID and GID ranges instead of 1337
// (istio pkg/kube/inject/openshift.go and inject.go GetProxyIDs).
import type { Pod } from '../types.js';
import { INIT, PROXY, VALIDATION } from './containers.js';

const UID_RANGE = 'openshift.io/sa.scc.uid-range';
const SUPPLEMENTAL_GROUPS = 'openshift.io/sa.scc.supplemental-groups';
export const DEFAULT_PROXY_ID = 1337;

/** "start/size" or "start-end"; returns the last id of the block. */
export function blockEnd(block: string): number | undefined {
  const slash = /^(\d+)\/(\d+)/.exec(block);
  if (slash) return Number(slash[1]) + Number(slash[2]) - 1;
  const dash = /^(\d+)-(\d+)/.exec(block);
  return dash ? Number(dash[2]) : undefined;
}

/** Proxy UID/GID for a namespace with these annotations; 1337/1337 outside OpenShift. */
export function openshiftProxyIds(nsAnnotations: Record<string, string> | undefined): { uid: number; gid: number } {
  const ids = { uid: DEFAULT_PROXY_ID, gid: DEFAULT_PROXY_ID };
  if (!nsAnnotations) return ids;
  const uidRange = nsAnnotations[UID_RANGE];
  const uid = uidRange ? blockEnd(uidRange) : undefined;
  if (uid !== undefined) ids.uid = uid;
  const groups = nsAnnotations[SUPPLEMENTAL_GROUPS] ?? uidRange;
  if (groups) {
    const ends = groups.split(',').map(blockEnd);
    if (ends.every((e) => e !== undefined) && ends.length > 0) ids.gid = ends[0]!;
  }
  return ids;
}

/** A user istio-proxy running as the app's UID has that UID cleared, so the namespace range applies. */
export function resetSidecarUserMatchingApp(pod: Pod): void {
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const sidecar = all.find((c) => c.name === PROXY);
  if (!sidecar?.securityContext) return;
  let sidecarUser = 0;
  let appUser = 0;
  for (const c of all) {
    if (c.name === PROXY) sidecarUser = c.securityContext?.runAsUser ?? sidecarUser;
    else if (c.name !== INIT && c.name !== VALIDATION) appUser = c.securityContext?.runAsUser ?? appUser;
  }
  if (sidecarUser === appUser) {
    delete sidecar.securityContext.runAsUser;
    delete sidecar.securityContext.runAsGroup;
  }
}
