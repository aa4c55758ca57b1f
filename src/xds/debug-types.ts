// istiod's xDS status types on the ADS stream (pilot/pkg/xds/statusgen.go), which `istioctl proxy-status
// --xds-address` asks for: istio.io/debug/syncz answers with one envoy.service.status.v3.ClientConfig per
// connected proxy, each watched type SYNCED, STALE, NOT_SENT or ERROR. Other istio.io/debug/ types get an
// empty answer, as istiod gives for a proxy it does not hold. Debug requests start no watch.
import type { Connection, DiscoveryRequest, DiscoveryResponse, DiscoveryServer, Watch, WireResource } from './ads.js';
import { GRPC_STATUS } from './ads.js';
import { toStruct } from './gen/common.js';
import { encodeMessage } from './protos.js';
import { xdsDebugScope, type DebugNamespaceRules } from '../security/debug-auth.js';
import type { Logger } from '../telemetry/logger.js';

export const SYNCZ_TYPE = 'istio.io/debug/syncz';
const CLIENT_CONFIG = 'type.googleapis.com/envoy.service.status.v3.ClientConfig';

export type ConfigStatus = 'SYNCED' | 'NOT_SENT' | 'STALE' | 'ERROR';

export interface DebugTypeOptions extends DebugNamespaceRules {
  /** The response's control_plane identifier (istiod's IstioControlPlaneInstance JSON). */
  controlPlane: { id: string; version: string };
}

/** istiod's debugSyncStatus: a NACK wins, then nothing sent, then the last response ACKed or not. */
export function configStatus(w: Pick<Watch, 'lastError' | 'nonceSent' | 'nonceAcked'>): ConfigStatus {
  if (w.lastError) return 'ERROR';
  if (!w.nonceSent) return 'NOT_SENT';
  return w.nonceAcked === w.nonceSent ? 'SYNCED' : 'STALE';
}

const timestamp = (d: Date): { seconds: number; nanos: number } => ({ seconds: Math.floor(d.getTime() / 1000), nanos: (d.getTime() % 1000) * 1e6 });

/** The node metadata istiod reports: cluster, namespace and version, each only when the proxy sent it. */
function reportedMetadata(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['CLUSTER_ID', 'NAMESPACE', 'ISTIO_VERSION']) if (typeof metadata[k] === 'string' && metadata[k]) out[k] = metadata[k];
  return out;
}

/** One ClientConfig per proxy (connections without PROXY_CONFIG, such as istioctl's own, are left out, as istiod does). */
export function synczClientConfigs(discovery: DiscoveryServer, namespace?: string): Array<Record<string, unknown>> {
  return [...discovery.connections.values()]
    .filter((c) => c.proxy.metadata.PROXY_CONFIG !== undefined && (!namespace || c.proxy.namespace === namespace))
    .map((c) => ({
      // istiod's proxy ID is the node id's `<pod>.<namespace>` part, which istioctl prints and matches on.
      node: { id: c.proxy.id.split('~')[2] ?? c.proxy.id, metadata: toStruct(reportedMetadata(c.proxy.metadata)) },
      generic_xds_configs: [...c.watches].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([typeUrl, w]) => ({
        type_url: typeUrl,
        config_status: configStatus(w),
        ...(w.sentAt ? { last_updated: timestamp(w.sentAt) } : {}),
        ...(w.lastError ? { error_state: { details: w.lastError, ...(w.sentAt ? { last_update_attempt: timestamp(w.sentAt) } : {}) } } : {}),
      })),
    }));
}

/** Installs the debug types on a DiscoveryServer. */
export function installDebugTypes(discovery: DiscoveryServer, opts: DebugTypeOptions, logger: Logger): void {
  const identifier = JSON.stringify({ Component: 'meshd', ID: opts.controlPlane.id, Info: { version: opts.controlPlane.version } });
  let nonces = 0;
  discovery.debugRequests = (conn: Connection, req: DiscoveryRequest): void => {
    const typeUrl = req.type_url ?? '';
    const scope = xdsDebugScope(conn.proxy.verifiedIdentity, opts);
    if ('status' in scope) {
      logger.warn({ proxy: conn.proxy.id, type: typeUrl }, 'xDS debug request refused: authentication required (use the TLS port)');
      return discovery.fail(conn, GRPC_STATUS.UNAUTHENTICATED, 'authentication required');
    }
    const configs = typeUrl === SYNCZ_TYPE ? synczClientConfigs(discovery, scope.all ? undefined : scope.namespace) : [];
    const resources: WireResource[] = configs.map((c) => ({ type_url: CLIENT_CONFIG, value: encodeMessage(CLIENT_CONFIG, c) }));
    const version = discovery.context?.version ?? '';
    const msg: DiscoveryResponse = {
      version_info: version,
      resources,
      type_url: typeUrl,
      nonce: `debug-${(++nonces).toString(36)}`,
      ...(typeUrl === SYNCZ_TYPE ? { control_plane: { identifier } } : {}),
    };
    conn.queue.send(msg, resources.reduce((n, r) => n + r.value.length + 64, 128));
  };
}
