// `meshd serve`: the long-running control plane. Wires the settings source, certificates, the webhook
// and monitoring servers, and a graceful shutdown that keeps serving for a while after SIGTERM so that
// API servers stop sending requests before the listener closes.
import { readFileSync, watch } from 'node:fs';
import { availableParallelism } from 'node:os';
import closeWithGrace from 'close-with-grace';
import { CertificateService, certificateServiceImplementation } from '../ca/certificate-service.js';
import { createCA, issueServingCertificate, type ServingCertificate } from '../ca/self-signed.js';
import { kubeTokenAuthenticator } from '../ca/token-auth.js';
import type { SigningCa, WorkloadCertPolicy } from '../ca/workload.js';
import { startControlPlane } from '../controllers/control-plane.js';
import { SettingsSource } from '../inject/settings-source.js';
import { loadKubeConfig } from '../kube/client.js';
import { watchCluster } from '../kube/cluster-source.js';
import { watchDirectory } from '../kube/local-source.js';
import { ObjectStore } from '../kube/store.js';
import { pooledRunner, poolOptionsFromEnv } from '../server/admission-runner.js';
import { buildMonitoringApp, type Readiness } from '../server/monitoring-app.js';
import { buildWebhookApp } from '../server/webhook-app.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';
import { DiscoveryServer, type DiscoveryOptions } from '../xds/ads.js';
import type { DebounceOptions } from '../xds/debounce.js';
import { startXdsServer, streamAuth, type XdsServer } from '../xds/server.js';
import { installDebugTypes } from '../xds/debug-types.js';
import { MESHD_VERSION } from '../version.js';
import { clientCertAuthenticator } from '../security/authenticate.js';
import { installSdsAuthorization, kubeSecretAccessReview } from '../security/secret-access.js';
import { startXdsUpdates } from '../xds/updates.js';
import { tlsContextOptions, type TlsMinVersion } from '../net/tls-policy.js';
import { caFile } from './ca-file.js';
import { durationMs, type CommonOptions, type SecurityOptions, type ServeClusterOptions } from './options.js';

export interface ServeOptions extends CommonOptions {
  kubeconfig?: string;
  address: string;
  webhookPort: number;
  monitoringPort: number;
  xdsPort: number;
  xdsTlsPort: number;
  debounce: DebounceOptions;
  domainSuffix: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Where to write the CA that signed a self-generated serving certificate (for caBundle). */
  caOut?: string;
  /** --tls-min-version: the oldest TLS version the webhook and xDS ports accept. */
  tlsMinVersion: TlsMinVersion;
  shutdownDelayMs: number;
  /** How long a client may take to send a whole request (slow clients are cut off after it). */
  requestTimeoutMs: number;
  cluster: ServeClusterOptions;
  /** Workload certificate lifetimes (DEFAULT_WORKLOAD_CERT_TTL, MAX_WORKLOAD_CERT_TTL). */
  workloadCerts: WorkloadCertPolicy;
  /** Audiences a workload token must carry (TOKEN_AUDIENCES). */
  tokenAudiences: string[];
  security: SecurityOptions;
  /** xDS cache size, send timeout and names limit (PILOT_XDS_CACHE_SIZE, PILOT_XDS_SEND_TIMEOUT, MESHD_XDS_MAX_NAMES). */
  xds: Partial<DiscoveryOptions>;
}

async function selfSignedTls(opts: ServeOptions): Promise<{ serving: ServingCertificate; ca: SigningCa }> {
  const ca = await createCA('meshd self-signed CA');
  return { serving: await issueServingCertificate(ca, ca.certPem, ca.certPem, opts.namespace, opts.revision), ca: { signer: ca, chainPem: ca.certPem, rootsPem: ca.certPem } };
}

/**
 * Whether meshd talks to a cluster. --local-dir is local mode: only an explicit --kubeconfig adds a
 * cluster, so that a KUBECONFIG left in the shell (or a pod's service account) is never written to by
 * someone trying meshd out. Without --local-dir, KUBECONFIG and in-cluster credentials select cluster mode.
 */
export function clusterWanted(opts: Pick<ServeOptions, 'localDir' | 'kubeconfig'>): boolean {
  return !opts.localDir || opts.kubeconfig !== undefined;
}

type Stop = () => void | Promise<void>;

/** Runs `stops` in order, each given at most `limitMs` (a failed start must not hang on one of them). */
async function stopAll(stops: Stop[], limitMs: number): Promise<void> {
  for (const stop of stops) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
    await Promise.race([Promise.resolve().then(stop).catch(() => undefined), late]);
    clearTimeout(timer);
  }
}

/** Binds a listener; a failure names the address, the port and its role. */
async function listenOn(
  what: string,
  address: string,
  port: number,
  listen: () => Promise<unknown>,
): Promise<void> {
  try {
    await listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'EADDRINUSE' ? 'address already in use'
      : e.code === 'EACCES' ? 'permission denied'
      : e.message;
    const where = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    throw new Error(`cannot listen on ${where} (${what}): ${reason}`);
  }
}

export async function runServe(opts: ServeOptions): Promise<void> {
  const logger = createLogger();
  // Listeners, closed first and in this order; then everything else.
  const listeners: Stop[] = [];
  const stops: Stop[] = [];
  try {
    await startServe(opts, logger, listeners, stops);
  } catch (err) {
    // Nothing half-alive: whatever started is stopped before the error is reported.
    await stopAll([...listeners, ...stops], 3_000);
    throw err;
  }
}

async function startServe(
  opts: ServeOptions,
  logger: ReturnType<typeof createLogger>,
  listeners: Stop[],
  stops: Stop[],
): Promise<void> {
  const metrics = createMetrics();
  const readiness: Readiness = { ready: false };
  const store = new ObjectStore();
  if (opts.localDir) {
    stops.push(await watchDirectory(opts.localDir, store, (file, err) => logger.warn({ file, err: err.message }, 'cannot read local object file')));
  }
  const kc = clusterWanted(opts) ? loadKubeConfig(opts.kubeconfig) : undefined;
  if (!kc && opts.localDir && process.env.KUBECONFIG) {
    logger.info('local mode (--local-dir): KUBECONFIG is ignored; --kubeconfig FILE would add that cluster');
  }
  if (!opts.tlsCert !== !opts.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  let onServingChange = (_: ServingCertificate): void => undefined;
  let xds: XdsServer | undefined;
  let serving: ServingCertificate | undefined;
  /** The CA that signs workload certificates; none when the operator supplies the serving certificate. */
  let signingCa: (() => SigningCa) | undefined;
  if (kc) {
    logger.info({ server: kc.getCurrentCluster()?.server }, 'watching the cluster');
    const stopCluster = await watchCluster(kc, opts.namespace, store, logger);
    stops.push(stopCluster);
    if (!opts.tlsCert) {
      // meshd is its own CA: it signs its serving certificate and keeps the webhooks trusting it.
      const controlPlane = await startControlPlane(kc, { ...opts.cluster, namespace: opts.namespace, revision: opts.revision }, logger, (s) => onServingChange(s));
      stops.push(() => controlPlane.stop());
      serving = controlPlane.serving;
      signingCa = () => controlPlane.root;
    }
  } else if (!opts.localDir) {
    logger.info('no kubeconfig and no --local-dir: serving with settings from files and defaults only');
  }
  const settings = new SettingsSource({
    ...opts,
    files: { values: opts.values, mesh: opts.mesh, injectorConfig: opts.injectorConfig },
    store,
    // Nodes come from the cluster or the local directory; with neither, auto mode is off (no Node client).
    nodeSource: Boolean(kc || opts.localDir),
    onError: (what, err) => logger.error({ err: err.message }, `invalid ${what}; keeping the previous settings`),
    onReload: () => logger.info('injector settings reloaded'),
  });
  stops.push(() => settings.close());
  for (const f of [opts.values, opts.mesh, opts.injectorConfig]) {
    if (f) {
      const w = watch(f, () => settings.reload());
      stops.push(() => w.close());
    }
  }

  if (!opts.tlsCert) {
    if (!serving) {
      const local = await selfSignedTls(opts);
      serving = local.serving;
      signingCa = () => local.ca;
    }
    const rootsFile = caFile(opts.caOut);
    stops.push(() => rootsFile.remove());
    rootsFile.write(serving.roots);
    logger.info({ caFile: rootsFile.path }, 'serving with a certificate meshd signed; the roots that verify it are written to caFile');
    onServingChange = (next) => {
      rootsFile.write(next.roots);
      webhook.server.setSecureContext({ ...tlsContextOptions(opts.tlsMinVersion), cert: next.cert, key: next.key });
      xds?.setTls(next);
      logger.info('serving certificate re-issued');
    };
  }
  const tls = opts.tlsCert && opts.tlsKey
    ? { cert: readFileSync(opts.tlsCert, 'utf8'), key: readFileSync(opts.tlsKey, 'utf8') }
    : { cert: serving!.cert, key: serving!.key };
  // Admission reviews are worked out in worker threads: a slow one cannot hold xDS, the CA or health probes.
  const admission = pooledRunner({
    ...poolOptionsFromEnv(process.env, availableParallelism(), durationMs),
    onWorkerExit: (reason) => logger.warn({ reason }, 'admission worker replaced'),
  });
  stops.push(() => admission.close());
  const webhook = buildWebhookApp({
    logger,
    metrics,
    settingsFor: (pod, ns, envs) => settings.settingsFor(pod, ns, envs),
    tls,
    tlsMinVersion: opts.tlsMinVersion,
    requestTimeoutMs: opts.requestTimeoutMs,
    admission,
  });
  if (opts.tlsCert && opts.tlsKey) {
    // Certificates mounted from a Secret rotate in place: pick them up without a restart.
    const reloadTls = (): void => {
      try {
        const next = { cert: readFileSync(opts.tlsCert!, 'utf8'), key: readFileSync(opts.tlsKey!, 'utf8') };
        webhook.server.setSecureContext({ ...tlsContextOptions(opts.tlsMinVersion), ...next });
        xds?.setTls({ ...next, roots: next.cert });
        logger.info('serving certificate reloaded');
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'cannot reload the serving certificate; keeping the old one');
      }
    };
    for (const f of [opts.tlsCert, opts.tlsKey]) {
      const w = watch(f, () => setTimeout(reloadTls, 100));
      stops.push(() => w.close());
    }
  }
  const discovery = new DiscoveryServer(logger, metrics.xds, opts.xds);
  stops.push(startXdsUpdates(store, discovery, { domainSuffix: opts.domainSuffix, debounce: opts.debounce, mesh: () => settings.current.mesh }, metrics.xds, logger));
  // One set of authenticators for xDS, the CA and the debug views (istiod's): a certificate meshd's CA
  // signed, then (in a cluster) a Kubernetes token. Local mode has no SubjectAccessReview: there a
  // verified identity may read its own namespace's credentials (see src/security/secret-access.ts).
  const trustDomain = (): string => String(settings.current.mesh.trustDomain || 'cluster.local');
  const caCertificates = (): string => {
    const c = signingCa?.();
    return c ? [c.signer.certPem, c.chainPem, c.rootsPem].join('\n') : '';
  };
  const tokens = (prefixes?: string[]) => (kc ? [kubeTokenAuthenticator(kc, opts.tokenAudiences, trustDomain, prefixes)] : []);
  const authenticators = [clientCertAuthenticator(caCertificates), ...tokens()];
  installSdsAuthorization(discovery, kc ? kubeSecretAccessReview(kc) : undefined, logger);
  const ca = signingCa
    ? [{
        definition: CertificateService.service,
        implementation: certificateServiceImplementation({
          authenticators,
          ca: signingCa,
          policy: opts.workloadCerts,
          metrics: metrics.ca,
          logger,
        }),
      }]
    : [];
  if (!signingCa) logger.warn('no CA key with --tls-cert: the certificate service is not offered on the secure port');
  const secureAuth = streamAuth(authenticators, { xdsAuth: opts.security.xdsAuth, identityCheck: opts.security.xdsIdentityCheck });
  if (!opts.security.xdsAuth) logger.warn('XDS_AUTH=false: xDS clients are not authenticated, so no credentials are served over SDS');
  xds = await startXdsServer(discovery, {
    address: opts.address,
    plainPort: opts.xdsPort,
    tlsPort: opts.xdsTlsPort,
    tls: { ...tls, roots: serving?.roots ?? tls.cert },
    tlsMinVersion: opts.tlsMinVersion,
    secureServices: ca,
    secureAuth,
  }, logger);
  const started = xds;
  listeners.push(() => started.stop());
  const debugRules = {
    namespaceRules: opts.security.debugEndpointAuth,
    systemNamespace: () => String(settings.current.mesh.rootNamespace || 'istio-system'),
    allowedNamespaces: new Set(opts.security.debugAllowedNamespaces),
  };
  // istioctl proxy-status --xds-address asks the ADS stream itself (istio.io/debug/syncz).
  installDebugTypes(discovery, { ...debugRules, controlPlane: { id: process.env.POD_NAME ?? '', version: MESHD_VERSION } }, logger);
  const monitoring = buildMonitoringApp(logger, metrics, readiness, discovery, {
    authenticators: tokens(['bearer', 'istio']), // istiod also takes `Istio <token>` over HTTP
    ...debugRules,
  });
  await admission.ready();
  listeners.unshift(() => webhook.close());
  listeners.push(() => monitoring.close());
  const host = opts.address;
  const { webhookPort, monitoringPort } = opts;
  await listenOn('webhook port', host, webhookPort, () => webhook.listen({ host, port: webhookPort }));
  await listenOn('monitoring port', host, monitoringPort, () =>
    monitoring.listen({ host, port: monitoringPort }));
  readiness.ready = true;
  const portOf = (app: { server: { address(): unknown } }): number | undefined => (app.server.address() as { port?: number } | null)?.port;
  logger.info({ webhookPort: portOf(webhook), monitoringPort: portOf(monitoring), xdsPort: xds.plainPort, xdsTlsPort: xds.tlsPort }, 'meshd is ready');

  closeWithGrace({ delay: opts.shutdownDelayMs + 10_000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    readiness.ready = false;
    logger.info({ signal }, `shutting down; still serving for ${opts.shutdownDelayMs} ms`);
    await new Promise((r) => setTimeout(r, opts.shutdownDelayMs));
    for (const close of listeners) await close();
    await Promise.allSettled(stops.map((stop) => stop()));
  });
}
