// Keeps the mesh's CA root in the cluster: the operator's `cacerts` Secret when there is one, else a
// self-signed root in `istio-ca-secret` that this replica creates (or adopts, when another replica won
// the race) and re-issues when it nears expiry. Every replica polls, so rotations reach all of them.
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node';
import { errorMessage, isConflict, isNotFound } from '../kube/errors.js';
import type { Logger } from '../telemetry/logger.js';
import {
  caRootFromSecret,
  createSelfSignedRoot,
  PLUGIN_SECRET,
  rotateSelfSigned,
  SELF_SIGNED_SECRET,
  SELF_SIGNED_SECRET_TYPE,
  selfSignedSecretData,
  type CaRoot,
  type RootPolicy,
} from './root.js';

async function readSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export class RootSecretStore {
  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    private readonly policy: RootPolicy,
    private readonly trustDomain: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The current root: plug-in, else persisted self-signed (rotated when due), else a new one. */
  async load(): Promise<CaRoot> {
    for (let attempt = 0; ; attempt++) {
      const plugin = caRootFromSecret(PLUGIN_SECRET, (await readSecret(this.core, this.namespace, PLUGIN_SECRET))?.data, this.now());
      if (plugin) return plugin;
      const secret = await readSecret(this.core, this.namespace, SELF_SIGNED_SECRET);
      const current = caRootFromSecret(SELF_SIGNED_SECRET, secret?.data, this.now());
      try {
        if (!secret) return await this.create();
        if (!current) throw new Error(`Secret ${this.namespace}/${SELF_SIGNED_SECRET} has no usable ca-cert.pem and ca-key.pem`);
        const rotated = rotateSelfSigned(current, this.now(), this.policy);
        if (!rotated) return current;
        // resourceVersion makes this a compare-and-swap: one replica rotates, the others re-read.
        const written = await this.core.replaceNamespacedSecret({ namespace: this.namespace, name: SELF_SIGNED_SECRET, body: { ...secret, data: { ...secret.data, ...rotated } } });
        this.logger.info('self-signed root re-issued before expiry; the old root stays in the bundle');
        return caRootFromSecret(SELF_SIGNED_SECRET, written.data, this.now())!;
      } catch (err) {
        // Another replica created or rotated it first: take theirs.
        if ((isConflict(err) || isNotFound(err)) && attempt < 5) continue;
        throw new Error(`cannot store the CA root in ${this.namespace}/${SELF_SIGNED_SECRET}: ${errorMessage(err)}`);
      }
    }
  }

  private async create(): Promise<CaRoot> {
    const root = await createSelfSignedRoot(this.policy, this.trustDomain);
    const written = await this.core.createNamespacedSecret({
      namespace: this.namespace,
      body: { metadata: { name: SELF_SIGNED_SECRET }, type: SELF_SIGNED_SECRET_TYPE, data: selfSignedSecretData(root, []) },
    });
    this.logger.info({ secret: `${this.namespace}/${SELF_SIGNED_SECRET}` }, 'created a self-signed CA root');
    return caRootFromSecret(SELF_SIGNED_SECRET, written.data, this.now())!;
  }
}
