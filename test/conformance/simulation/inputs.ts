// What meshd is given for one case: the case's `config` and `kube` objects under the harness rules of the
// data's README (namespace `default` when absent, one common creationTimestamp), its mesh overrides and its
// feature flags (as environment variables, as istiod reads them), and the inputs meshd has no way to read.
import { XDS_KINDS } from '../../../src/xds/updates.js';
import type { SimCase } from './cases.js';

type Obj = Record<string, unknown>;

export interface MeshdInputs {
  objects: Obj[];
  /** MeshConfig overrides (proto-JSON names), or undefined for the default mesh. */
  mesh: Obj | undefined;
  env: Record<string, string>;
  /** Why meshd cannot be given this case as Istio's harness is; empty when it can. */
  unsupported: string[];
}

/** API groups whose kinds meshd reads, by the kinds' names (src/xds/updates.ts XDS_KINDS). */
const READ_GROUPS = new Set(['', 'networking.istio.io', 'security.istio.io']);
/** Groups Istio's harness takes in `config`; any other object there is ignored by it (crd.ParseInputs). */
const CONFIG_GROUPS = /^(networking|security|telemetry|extensions)\.istio\.io$|^gateway\.networking\.k8s\.io$/;

const groupOf = (o: Obj): string => {
  const v = String(o.apiVersion ?? '');
  return v.includes('/') ? v.slice(0, v.indexOf('/')) : '';
};

const annotations = (o: Obj): Obj => (((o.metadata ?? {}) as Obj).annotations ?? {}) as Obj;

/**
 * In-memory configs of the harness (FakeOptions.Configs; only TestTLSRouteTermination has them, marked by
 * internal.istio.io annotations) keep a zero creationTimestamp, written here as none.
 */
const inMemoryConfig = (o: Obj): boolean => Object.keys(annotations(o)).some((k) => k.startsWith('internal.istio.io/'));

function withHarnessDefaults(o: Obj, timestamp: string, stampIt: boolean): Obj {
  const metadata = { ...((o.metadata ?? {}) as Obj) };
  if (!metadata.namespace) metadata.namespace = 'default';
  if (stampIt && !metadata.creationTimestamp) metadata.creationTimestamp = timestamp;
  return { ...o, metadata };
}

export function meshdInputs(c: SimCase, timestamp: string): MeshdInputs {
  const unsupported: string[] = [];
  const objects: Obj[] = [];
  const take = (o: Obj, stamp: boolean): void => {
    const kind = String(o.kind ?? '');
    if (!XDS_KINDS.has(kind) || !READ_GROUPS.has(groupOf(o))) {
      unsupported.push(`meshd does not read ${kind} (${String(o.apiVersion)})`);
    } else objects.push(withHarnessDefaults(o, timestamp, stamp));
  };
  for (const o of c.config ?? []) if (CONFIG_GROUPS.test(groupOf(o))) take(o, !inMemoryConfig(o));
  // The fake API server stores `kube` objects as written; it gives them a creation time (now) too.
  for (const o of c.kube ?? []) take(o, true);
  if (c.registry) {
    unsupported.push('an Istio memory registry (`registry`), which has no object form meshd reads');
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.flags ?? {})) env[k] = String(v);
  return { objects, mesh: c.mesh, env, unsupported: [...new Set(unsupported)] };
}
