// The conformance suites' Go tools in test/peers (simulate, xdsdump): taken from an environment variable
// when the peers build made them, else built here once into a cache directory keyed by the sha256 of
// go.mod, go.sum and the tool's own Go files (so a change to any of them builds a new binary).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const PEERS = import.meta.dirname;

export function goToolBin(name: string, envVar: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = env[envVar];
  if (given) {
    if (!existsSync(given)) throw new Error(`${envVar}=${given}: no such file`);
    return given;
  }
  const dir = join(PEERS, name);
  const sources = readdirSync(dir).filter((f) => f.endsWith('.go')).sort();
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) hash.update(readFileSync(join(PEERS, f)));
  for (const f of sources) hash.update(f).update(readFileSync(join(dir, f)));
  const cache = env.MESHD_PEERS_CACHE ?? join(homedir(), '.cache', 'meshd-peers');
  const out = join(cache, 'tools', hash.digest('hex').slice(0, 16));
  const bin = join(out, name);
  if (existsSync(bin)) return bin;
  mkdirSync(out, { recursive: true });
  const tmp = `${bin}.${process.pid}`;
  console.error(`building ${name} (test/peers/${name}) into ${out}; the first build of Istio's packages takes minutes`);
  // -trimpath as build.sh builds the peers, so both share the Go build cache.
  execFileSync('nice', ['-n', '10', 'go', 'build', '-trimpath', '-ldflags', '-s -w', '-o', tmp, `./${name}`], {
    cwd: PEERS,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, GOWORK: 'off', CGO_ENABLED: '0', GOFLAGS: `${env.GOFLAGS ?? ''} -mod=readonly`.trim() },
  });
  renameSync(tmp, bin);
  return bin;
}

/** Istio's traffic simulator over a dump of Envoy resources (test/peers/simulate). */
export const simulateBin = (env = process.env): string => goToolBin('simulate', 'MESHD_SIMULATE_BIN', env);

/** The xDS client that dumps what a control plane sends one proxy (test/peers/xdsdump). */
export const xdsdumpBin = (env = process.env): string => goToolBin('xdsdump', 'MESHD_XDSDUMP_BIN', env);
