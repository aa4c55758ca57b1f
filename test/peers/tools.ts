// The conformance suites' Go tools in test/peers (simulate, xdsdump): taken from an environment variable
// when given, else from tools.sh, which builds them once into a cache keyed by their sources.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

let built: string | undefined;

/** tools.sh's bin directory (a cache hit costs no Go command). */
export function toolsDir(): string {
  built ??= execFileSync('bash', [join(import.meta.dirname, 'tools.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim().split('\n').at(-1)!;
  return built;
}

export function goToolBin(name: string, envVar: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = env[envVar];
  if (given && !existsSync(given)) throw new Error(`${envVar}=${given}: no such file`);
  return given ?? join(toolsDir(), name);
}

/** Istio's traffic simulator over a dump of Envoy resources (test/peers/simulate). */
export const simulateBin = (env = process.env): string => goToolBin('simulate', 'MESHD_SIMULATE_BIN', env);

/** The xDS client that dumps what a control plane sends one proxy (test/peers/xdsdump). */
export const xdsdumpBin = (env = process.env): string => goToolBin('xdsdump', 'MESHD_XDSDUMP_BIN', env);
