// meshd's command line: `serve` runs the control plane, `inject` injects workload YAML offline,
// `validate` checks Istio config offline.
import { parseArgs } from 'node:util';
import { runInject } from './inject.js';
import { CLUSTER_FLAGS, clusterOptions, COMMON_FLAGS, commonOptions, durationMs, securityOptions, xdsOptions } from './options.js';
import { parseTlsMinVersion } from '../net/tls-policy.js';
import { runServe } from './serve.js';
import { runValidate } from './validate.js';

const USAGE = `usage:
  meshd serve [--kubeconfig FILE] [--local-dir DIR] [--values FILE] [--mesh FILE] [--injector-config FILE]
              [--tls-cert FILE --tls-key FILE | --ca-out FILE] [--tls-min-version 1.2|1.3] [--address ADDR]
              [--webhook-port 15017] [--monitoring-port 15014] [--xds-port 15010] [--xds-tls-port 15012]
              [--debounce-after 100ms] [--debounce-max 10s] [--domain cluster.local] [--revision REV] [--namespace NS]
              [--native-sidecars auto|true|false] [--shutdown-delay SECONDS] [--request-timeout 30s]
              [--lease-duration 30s] [--renew-deadline 15s] [--retry-period 7.5s]
  meshd inject -f FILE|- [-o FILE] [--values FILE] [--mesh FILE] [--injector-config FILE]
              [--local-dir DIR] [--revision REV] [--native-sidecars auto|true|false]
  meshd validate -f FILE|DIR|- [-n NAMESPACE]
`;

function port(v: string | boolean | undefined, def: number, name: string): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'serve') {
    const { values: f } = parseArgs({
      args: rest,
      options: {
        ...COMMON_FLAGS,
        ...CLUSTER_FLAGS,
        address: { type: 'string' },
        'webhook-port': { type: 'string' },
        'monitoring-port': { type: 'string' },
        'xds-port': { type: 'string' },
        'xds-tls-port': { type: 'string' },
        'debounce-after': { type: 'string' },
        'debounce-max': { type: 'string' },
        domain: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'ca-out': { type: 'string' },
        'tls-min-version': { type: 'string' },
        'shutdown-delay': { type: 'string' },
        'request-timeout': { type: 'string' },
        kubeconfig: { type: 'string' },
      },
      strict: true,
    });
    await runServe({
      ...commonOptions(f, process.env),
      address: f.address ?? '0.0.0.0',
      webhookPort: port(f['webhook-port'], 15017, 'webhook-port'),
      monitoringPort: port(f['monitoring-port'], 15014, 'monitoring-port'),
      xdsPort: port(f['xds-port'], 15010, 'xds-port'),
      xdsTlsPort: port(f['xds-tls-port'], 15012, 'xds-tls-port'),
      // istiod's PILOT_DEBOUNCE_AFTER / PILOT_DEBOUNCE_MAX.
      debounce: {
        quietMs: durationMs(f['debounce-after'] ?? process.env.PILOT_DEBOUNCE_AFTER, 100, '--debounce-after'),
        maxMs: durationMs(f['debounce-max'] ?? process.env.PILOT_DEBOUNCE_MAX, 10_000, '--debounce-max'),
      },
      domainSuffix: f.domain ?? process.env.DOMAIN_SUFFIX ?? 'cluster.local',
      workloadCerts: {
        defaultTtlSeconds: durationMs(process.env.DEFAULT_WORKLOAD_CERT_TTL, 24 * 3600_000, 'DEFAULT_WORKLOAD_CERT_TTL') / 1000,
        maxTtlSeconds: durationMs(process.env.MAX_WORKLOAD_CERT_TTL, 90 * 24 * 3600_000, 'MAX_WORKLOAD_CERT_TTL') / 1000,
      },
      tokenAudiences: (process.env.TOKEN_AUDIENCES || 'istio-ca').split(',').map((a) => a.trim()).filter(Boolean),
      security: securityOptions(process.env),
      tlsCert: f['tls-cert'],
      tlsKey: f['tls-key'],
      caOut: f['ca-out'],
      tlsMinVersion: parseTlsMinVersion(f['tls-min-version']),
      shutdownDelayMs: Number(f['shutdown-delay'] ?? 5) * 1000,
      requestTimeoutMs: durationMs(f['request-timeout'], 30_000, '--request-timeout'),
      kubeconfig: f.kubeconfig,
      cluster: clusterOptions(f, process.env),
      xds: xdsOptions(process.env),
    });
    return -1; // keeps running
  }
  if (command === 'inject') {
    const { values: f } = parseArgs({ args: rest, options: { ...COMMON_FLAGS, filename: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' } }, strict: true });
    if (!f.filename) throw new Error('inject needs -f FILE (or -f - for stdin)');
    return runInject(f.filename, f.output, commonOptions(f, process.env));
  }
  if (command === 'validate') {
    const { values: f } = parseArgs({ args: rest, options: { filename: { type: 'string', short: 'f' }, namespace: { type: 'string', short: 'n' } }, strict: true });
    if (!f.filename) throw new Error('validate needs -f FILE|DIR (or -f - for stdin)');
    return runValidate(f.filename, f.namespace ?? 'default');
  }
  process.stderr.write(USAGE);
  return command === 'help' || command === '--help' || command === '-h' ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`meshd: ${err.message}\n`);
    process.exitCode = 1;
  },
);
