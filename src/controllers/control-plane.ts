// Cluster mode's moving parts, wired together: the CA root kept in Secrets (polled, so a rotation by any
// replica reaches all), the webhook serving certificate signed by it, the webhook patcher (every
// replica) and the namespace ConfigMap controller (only the elected leader).
import { hostname } from 'node:os';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { RootSecretStore } from '../ca/root-secret.js';
import type { CaRoot, RootPolicy } from '../ca/root.js';
import { issueServingCertificate, type ServingCertificate } from '../ca/self-signed.js';
import { errorMessage } from '../kube/errors.js';
import type { Logger } from '../telemetry/logger.js';
import { CRL_CONFIGMAP, ROOT_CERT_CONFIGMAP } from './configmap-plan.js';
import { LeaderElector, type ElectionTiming } from './leader-election.js';
import { NamespaceConfigMapController, type ManagedValue } from './namespace-configmaps.js';
import { WebhookPatcher } from './webhook-patcher.js';

export interface ControlPlaneOptions {
  namespace: string;
  revision: string;
  rootPolicy: RootPolicy;
  /** How often to re-read the root Secrets and check for rotation. */
  rootPollMs: number;
  /** Undefined: no election, this replica runs the controllers (ENABLE_LEADER_ELECTION=false). */
  election?: ElectionTiming;
  identity?: string;
}

export interface ControlPlane {
  serving: ServingCertificate;
  /** The CA root in force (it follows rotations and plug-in changes). */
  root: CaRoot;
  stop(): Promise<void>;
}

const NAMESPACE_ELECTION = 'istio-namespace-controller-election';

function distributed(root: CaRoot): ManagedValue[] {
  return [{ ...ROOT_CERT_CONFIGMAP, value: root.rootsPem }, ...(root.crlPem ? [{ ...CRL_CONFIGMAP, value: root.crlPem }] : [])];
}

function servingFor(root: CaRoot, opts: ControlPlaneOptions): Promise<ServingCertificate> {
  return issueServingCertificate(root.signer, root.chainPem, root.rootsPem, opts.namespace, opts.revision);
}

export async function startControlPlane(
  kc: KubeConfig,
  opts: ControlPlaneOptions,
  logger: Logger,
  onServingChange: (serving: ServingCertificate) => void,
): Promise<ControlPlane> {
  const core = kc.makeApiClient(CoreV1Api);
  const rootStore = new RootSecretStore(core, opts.namespace, opts.rootPolicy, 'cluster.local', logger);
  let root = await rootStore.load();
  let serving = await servingFor(root, opts);
  logger.info({ source: root.source }, 'CA root loaded');

  const patcher = new WebhookPatcher(kc, root.rootsPem, { revision: opts.revision, namespace: opts.namespace, probeIntervalMs: 2_000 }, logger);
  await patcher.start();

  let nsController: NamespaceConfigMapController | undefined;
  const controllers = {
    started: async () => {
      nsController = new NamespaceConfigMapController(kc, core, [ROOT_CERT_CONFIGMAP, CRL_CONFIGMAP], distributed(root), logger);
      await nsController.start();
    },
    stopped: async () => {
      await nsController?.stop();
      nsController = undefined;
    },
  };
  const elector = opts.election
    ? new LeaderElector(kc, { ...opts.election, namespace: opts.namespace, name: NAMESPACE_ELECTION, identity: opts.identity ?? `${hostname()}-${process.pid}` }, controllers, logger)
    : undefined;
  if (elector) elector.start();
  else await controllers.started();

  const poll = setInterval(() => {
    void rootStore.load().then(async (next) => {
      if (next.rootsPem === root.rootsPem && next.signer.certPem === root.signer.certPem && next.crlPem === root.crlPem) return;
      logger.info({ source: next.source }, 'CA root changed; re-issuing the serving certificate and redistributing the roots');
      // Trust first, then serve: the bundle holds the new root before any leaf signed by it is served.
      patcher.setCaBundle(next.rootsPem);
      nsController?.setValues(distributed(next));
      root = next;
      serving = await servingFor(next, opts);
      onServingChange(serving);
    }).catch((err: unknown) => logger.error({ err: errorMessage(err) }, 'cannot refresh the CA root; keeping the current one'));
  }, opts.rootPollMs);

  return {
    get serving() {
      return serving;
    },
    get root() {
      return root;
    },
    stop: async () => {
      clearInterval(poll);
      if (elector) await elector.stop();
      else await controllers.stopped();
      await patcher.stop();
    },
  };
}
