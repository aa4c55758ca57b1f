// Keeps the xDS server's PushContext current: store changes to the kinds xDS reads are debounced
// (100 ms quiet, 10 s max, like istiod), then one new PushContext is built and pushed to every proxy.
import type { KubeObject, ObjectStore } from '../kube/store.js';
import type { Logger } from '../telemetry/logger.js';
import type { XdsMetrics } from '../telemetry/metrics.js';
import type { IstioConfig, MeshConfig } from '../types.js';
import { validateObject } from '../validation/validate.js';
import type { DiscoveryServer } from './ads.js';
import { toConfig } from './config-index.js';
import { credentialsFrom } from '../kube/tls-secrets.js';
import { Debouncer, type DebounceOptions } from './debounce.js';
import { meshSettings, PushContext } from './push-context.js';
import { buildRegistry } from './registry.js';

const REGISTRY_KINDS = ['Service', 'EndpointSlice', 'Pod', 'Node', 'ServiceEntry', 'WorkloadEntry'];
const ROUTING_KINDS = ['VirtualService', 'DestinationRule', 'Sidecar', 'Gateway', 'PeerAuthentication', 'AuthorizationPolicy'];
/** Kinds whose changes trigger a push (ConfigMap: the mesh config; Secret: SDS credentials). */
export const XDS_KINDS = new Set([...REGISTRY_KINDS, ...ROUTING_KINDS, 'ConfigMap', 'Secret']);

export interface UpdateOptions {
  domainSuffix: string;
  debounce: DebounceOptions;
  mesh: () => MeshConfig;
}

/** Istio config is checked once per object version: files are not admitted by a webhook, so invalid ones are skipped here. */
const verdicts = new WeakMap<KubeObject, boolean>();
function valid(o: KubeObject, logger: Logger): boolean {
  let ok = verdicts.get(o);
  if (ok === undefined) {
    const v = validateObject(o);
    ok = v.allowed;
    verdicts.set(o, ok);
    if (!ok) logger.warn({ kind: o.kind, name: o.metadata?.name, namespace: o.metadata?.namespace, error: v.message }, 'invalid Istio config ignored');
  }
  return ok;
}

let pushCounter = 0;

export function buildPushContext(store: ObjectStore, opts: Omit<UpdateOptions, 'debounce'>, logger: Logger): PushContext {
  const registry = buildRegistry({
    services: store.list('Service'),
    endpointSlices: store.list('EndpointSlice'),
    pods: store.list('Pod'),
    nodes: store.list('Node'),
    serviceEntries: store.list('ServiceEntry').filter((o) => valid(o, logger)),
    workloadEntries: store.list('WorkloadEntry'),
    domainSuffix: opts.domainSuffix,
  });
  // istiod's PushVersion: a timestamp and a counter, one per push.
  const version = `${new Date().toISOString()}/${++pushCounter}`;
  const configs: IstioConfig[] = ROUTING_KINDS.flatMap((kind) => store.list(kind).filter((o) => valid(o, logger)).map(toConfig));
  return PushContext.build(version, registry, configs, meshSettings(opts.mesh(), opts.domainSuffix), credentialsFrom(store.list('Secret')));
}

export function startXdsUpdates(store: ObjectStore, discovery: DiscoveryServer, opts: UpdateOptions, metrics: XdsMetrics, logger: Logger): () => void {
  const rebuild = (firstAt?: number): void => {
    const started = Date.now();
    const ctx = buildPushContext(store, opts, logger);
    metrics.pushContextInit.observe((Date.now() - started) / 1000);
    if (firstAt !== undefined) metrics.debounce.observe((Date.now() - firstAt) / 1000);
    metrics.services.set(ctx.registry.services.length);
    metrics.virtualServices.set(ctx.config.virtualServices.length);
    discovery.setContext(ctx);
  };
  rebuild();
  const debouncer = new Debouncer<string>(opts.debounce, (_kinds, firstAt) => rebuild(firstAt));
  const unsubscribe = store.onChange((kind) => {
    if (XDS_KINDS.has(kind)) debouncer.trigger(kind);
  });
  return () => {
    unsubscribe();
    debouncer.stop();
  };
}
