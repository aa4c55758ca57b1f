// Envoy proxies, sidecars and gateways: wildcard CDS/LDS for everything the proxy imports, RDS, EDS and
// SDS by name.
import type { ProxyInfo } from '../../types.js';
import type { PushContext } from '../push-context.js';
import { TYPE } from '../protos.js';
import { serviceClusters } from './clusters.js';
import type { Msg } from './common.js';
import { buildLoadAssignment } from './endpoints.js';
import { gatewayListeners, gatewayRoute } from './gateway.js';
import { staticClusters } from './listeners.js';
import { generateSecret } from './secrets.js';
import { sidecarClusters, sidecarListeners, sidecarRoute } from './sidecar.js';

export function generateEnvoy(ctx: PushContext, proxy: ProxyInfo, typeUrl: string, names: string[] | undefined): Msg[] {
  const gateway = proxy.type === 'router';
  const pick = (all: Msg[]): Msg[] => (names ? all.filter((r) => names.includes(r.name as string)) : all);
  switch (typeUrl) {
    case TYPE.cluster:
      return pick(gateway ? [...ctx.visibleServices(proxy).flatMap((s) => serviceClusters(ctx, s, { proxyless: false, proxyNamespace: proxy.namespace })), ...staticClusters()] : sidecarClusters(ctx, proxy));
    case TYPE.listener:
      return pick(gateway ? gatewayListeners(ctx, proxy) : sidecarListeners(ctx, proxy));
    case TYPE.route:
      return (names ?? []).map((n) => (gateway ? gatewayRoute(ctx, proxy, n) : sidecarRoute(ctx, proxy, n))).filter((r): r is Msg => r !== undefined);
    case TYPE.endpoint:
      return (names ?? []).map((n) => buildLoadAssignment(ctx, n, proxy.namespace)).filter((r): r is Msg => r !== undefined);
    case TYPE.secret:
      return (names ?? []).map((n) => generateSecret(ctx, proxy, n)).filter((r): r is Msg => r !== undefined);
    default:
      return [];
  }
}
