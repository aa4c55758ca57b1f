// meshd's xDS server in-process on 127.0.0.1, fed from an ObjectStore the test edits, for
// protocol-level tests that need to control exactly when a new PushContext is pushed.
import { ObjectStore, type KubeObject } from '../../src/kube/store.js';
import { defaultMeshConfig } from '../../src/config/mesh.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createMetrics, type Metrics } from '../../src/telemetry/metrics.js';
import { DiscoveryServer, type DiscoveryOptions } from '../../src/xds/ads.js';
import { startXdsServer, type XdsListenOptions, type XdsServer } from '../../src/xds/server.js';
import { buildPushContext } from '../../src/xds/updates.js';

export interface TestXds {
  store: ObjectStore;
  discovery: DiscoveryServer;
  server: XdsServer;
  metrics: Metrics;
  /** Replaces the mesh's objects and pushes a new PushContext at once (no debounce). */
  set(objects: object[]): void;
  close(): Promise<void>;
}

export async function startTestXds(objects: object[], listen: Partial<XdsListenOptions> = {}, options: Partial<DiscoveryOptions> = {}): Promise<TestXds> {
  const logger = createLogger('silent');
  const metrics = createMetrics();
  const store = new ObjectStore();
  const discovery = new DiscoveryServer(logger, metrics.xds, options);
  const opts = { domainSuffix: 'cluster.local', mesh: defaultMeshConfig };
  const set = (objs: object[]): void => {
    store.replaceSource('test', objs as KubeObject[]);
    discovery.setContext(buildPushContext(store, opts, logger));
  };
  set(objects);
  const server = await startXdsServer(discovery, { address: '127.0.0.1', plainPort: 0, ...listen }, logger);
  return { store, discovery, server, metrics, set, close: () => server.stop() };
}
