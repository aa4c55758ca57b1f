// meshd's command line: `serve` runs the control plane, `inject` injects workload YAML offline,
// `validate` checks Istio config offline. Usage mistakes exit 2, failures 1, each with one line on stderr.
// Each command's modules load only when it runs: help, version and usage errors answer at once.
import { either, parseFlags, UsageError, wantsHelp, type Flags } from './args.js';
import { fileErrorMessage } from './files.js';
import {
  CLUSTER_FLAGS,
  COMMON_FLAGS,
  commonOptions,
  durationMs,
  portFlag,
  secondsOrDurationMs,
  securityOptions,
  xdsOptions,
} from './options.js';
import { parseTlsMinVersion } from '../net/tls-policy.js';
import { INJECT_HINTS, INJECT_USAGE, SERVE_USAGE, TOP_USAGE, VALIDATE_USAGE } from './usage.js';
import { MESHD_VERSION } from '../version.js';

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

const SERVE_FLAGS = {
  ...HELP,
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
} as const;

// meshd's flags and istioctl kube-inject's names for the same settings.
const INJECT_FLAGS = {
  ...HELP,
  ...COMMON_FLAGS,
  filename: { type: 'string', short: 'f' },
  output: { type: 'string', short: 'o' },
  injectConfigFile: { type: 'string' },
  meshConfigFile: { type: 'string' },
  valuesFile: { type: 'string' },
  istioNamespace: { type: 'string', short: 'i' },
  revision: { type: 'string', short: 'r' },
} as const;

const VALIDATE_FLAGS = {
  ...HELP,
  filename: { type: 'string', short: 'f' },
  namespace: { type: 'string', short: 'n' },
} as const;

const str = (f: Flags, k: string): string | undefined => {
  const v = f[k];
  return typeof v === 'string' ? v : undefined;
};

async function serve(f: Flags): Promise<number> {
  const { runServe } = await import('./serve.js');
  const { clusterOptions } = await import('./cluster-options.js');
  await runServe({
    ...commonOptions(f, process.env),
    address: str(f, 'address') ?? '0.0.0.0',
    webhookPort: portFlag(str(f, 'webhook-port'), 15017, '--webhook-port'),
    monitoringPort: portFlag(str(f, 'monitoring-port'), 15014, '--monitoring-port'),
    xdsPort: portFlag(str(f, 'xds-port'), 15010, '--xds-port'),
    xdsTlsPort: portFlag(str(f, 'xds-tls-port'), 15012, '--xds-tls-port'),
    // istiod's PILOT_DEBOUNCE_AFTER / PILOT_DEBOUNCE_MAX.
    debounce: {
      quietMs: durationMs(str(f, 'debounce-after') ?? process.env.PILOT_DEBOUNCE_AFTER, 100, '--debounce-after'),
      maxMs: durationMs(str(f, 'debounce-max') ?? process.env.PILOT_DEBOUNCE_MAX, 10_000, '--debounce-max'),
    },
    domainSuffix: str(f, 'domain') ?? process.env.DOMAIN_SUFFIX ?? 'cluster.local',
    workloadCerts: {
      defaultTtlSeconds: durationMs(process.env.DEFAULT_WORKLOAD_CERT_TTL, 24 * 3600_000, 'DEFAULT_WORKLOAD_CERT_TTL') / 1000,
      maxTtlSeconds: durationMs(process.env.MAX_WORKLOAD_CERT_TTL, 90 * 24 * 3600_000, 'MAX_WORKLOAD_CERT_TTL') / 1000,
    },
    tokenAudiences: (process.env.TOKEN_AUDIENCES || 'istio-ca').split(',').map((a) => a.trim()).filter(Boolean),
    security: securityOptions(process.env),
    tlsCert: str(f, 'tls-cert'),
    tlsKey: str(f, 'tls-key'),
    caOut: str(f, 'ca-out'),
    tlsMinVersion: parseTlsMinVersion(str(f, 'tls-min-version')),
    shutdownDelayMs: secondsOrDurationMs(str(f, 'shutdown-delay'), 5_000, '--shutdown-delay'),
    requestTimeoutMs: durationMs(str(f, 'request-timeout'), 30_000, '--request-timeout'),
    kubeconfig: str(f, 'kubeconfig'),
    cluster: clusterOptions(f, process.env),
    xds: xdsOptions(process.env),
  });
  return -1; // keeps running
}

async function inject(f: Flags): Promise<number> {
  const file = str(f, 'filename');
  if (!file) {
    throw new UsageError("meshd inject: needs -f FILE (or -f - for stdin); see 'meshd inject --help'");
  }
  const injectorConfig = either(f, 'inject', ['injector-config', 'injectConfigFile']);
  const mesh = either(f, 'inject', ['mesh', 'meshConfigFile']);
  const values = either(f, 'inject', ['values', 'valuesFile']);
  const namespace = either(f, 'inject', ['namespace', 'istioNamespace']);
  const merged: Flags = {
    ...f,
    'injector-config': injectorConfig.value,
    mesh: mesh.value,
    values: values.value,
    namespace: namespace.value,
  };
  const flagNames = { injectorConfig: injectorConfig.flag, mesh: mesh.flag, values: values.flag };
  const { runInject } = await import('./inject.js');
  return runInject(file, str(f, 'output'), commonOptions(merged, process.env), flagNames);
}

async function validate(f: Flags): Promise<number> {
  const file = str(f, 'filename');
  if (!file) {
    throw new UsageError("meshd validate: needs -f FILE|DIR (or -f -); see 'meshd validate --help'");
  }
  const { runValidate } = await import('./validate.js');
  return runValidate(file, str(f, 'namespace') ?? 'default');
}

interface Command {
  usage: string;
  flags: Parameters<typeof parseFlags>[2];
  hints?: Record<string, string>;
  run(flags: Flags): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  serve: { usage: SERVE_USAGE, flags: SERVE_FLAGS, run: serve },
  inject: { usage: INJECT_USAGE, flags: INJECT_FLAGS, hints: INJECT_HINTS, run: inject },
  // istioctl's name for it.
  'kube-inject': { usage: INJECT_USAGE, flags: INJECT_FLAGS, hints: INJECT_HINTS, run: inject },
  validate: { usage: VALIDATE_USAGE, flags: VALIDATE_FLAGS, run: validate },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(TOP_USAGE);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    if (name === 'help' && rest[0] && !topic) {
      throw new UsageError(`meshd help: unknown command "${rest[0]}"`);
    }
    process.stdout.write(topic?.usage ?? TOP_USAGE);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    const extra = name === 'version' && rest.length > 0 && !wantsHelp(rest);
    if (extra) throw new UsageError('meshd version: takes no arguments');
    process.stdout.write(wantsHelp(rest) ? 'usage: meshd version\n' : `meshd ${MESHD_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const what = name.startsWith('-') ? `unknown flag ${name}` : `unknown command "${name}"`;
    throw new UsageError(`meshd: ${what} (see 'meshd --help')`);
  }
  if (wantsHelp(rest)) {
    process.stdout.write(command.usage);
    return 0;
  }
  return command.run(parseFlags(name, rest, command.flags, command.hints));
}

/** The one line meshd prints for a failure. */
function failureMessage(err: Error, argv: string[]): string {
  if (err instanceof UsageError) return err.message;
  const text = (fileErrorMessage(err) ?? err.message).replace(/\s*\n\s*/g, ' ').trim();
  const command = argv[0] && COMMANDS[argv[0]] ? ` ${argv[0]}` : '';
  return `meshd${command}: ${text}`;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`${failureMessage(err, process.argv.slice(2))}\n`);
    // A failed start may leave timers or sockets behind: do not linger half-alive.
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
