// kubectl and helm (unpacked by kube-tools.sh into $MESHD_KUBE_TOOLS) against the e2e cluster.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface ToolResult {
  status: number | null;
  stdout: string;
  /** stdout and stderr together, for messages and assertions on errors. */
  out: string;
}

function tool(name: 'kubectl' | 'helm', args: string[], env: NodeJS.ProcessEnv = {}): ToolResult {
  const dir = process.env.MESHD_KUBE_TOOLS;
  if (!dir) throw new Error('MESHD_KUBE_TOOLS is not set: run the e2e suite with `npm run test:e2e`');
  const r = spawnSync(join(dir, name), args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export const kubectl = (kubeconfig: string, ...args: string[]): ToolResult => tool('kubectl', ['--kubeconfig', kubeconfig, ...args]);

export const helm = (kubeconfig: string, home: string, ...args: string[]): ToolResult =>
  tool('helm', ['--kubeconfig', kubeconfig, ...args], { HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') });

/** The API server's minor version, from `kubectl version` (e.g. 20 for v1.20.2). */
export function serverMinor(kubeconfig: string): number {
  const r = kubectl(kubeconfig, 'version', '-o', 'json');
  const minor = Number.parseInt(JSON.parse(r.stdout || '{}').serverVersion?.minor ?? '', 10);
  if (!Number.isInteger(minor)) throw new Error(`kubectl version gave no server version:\n${r.out}`);
  return minor;
}

/**
 * Istio's CRDs from the chart, installed the way an operator would, and waited for. Before Kubernetes 1.23
 * the CRD API has no `x-kubernetes-validations` (Istio's CEL rules), so kubectl's client-side validation
 * refuses the file; with --validate=false that API server drops the rules and keeps the rest of the schema.
 */
export function installIstioCrds(kubeconfig: string): void {
  const crds = join(import.meta.dirname, '..', '..', 'charts', 'meshd', 'crds');
  const validate = serverMinor(kubeconfig) < 23 ? ['--validate=false'] : [];
  const wait = ['wait', '--for', 'condition=established', '--timeout', '60s', '-f', crds];
  for (const args of [['apply', ...validate, '-f', crds], wait]) {
    const r = kubectl(kubeconfig, ...args);
    if (r.status !== 0) throw new Error(`kubectl ${args[0]} of the CRDs failed:\n${r.out}`);
  }
}
