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

/** Every resource of a wildcard type (CDS, LDS) for an Envoy proxy; a named subscription picks from these. */
export function envoyWildcard(ctx: PushContext, proxy: ProxyInfo, typeUrl: string): Msg[] {
  const gateway = proxy.type === 'router';
  switch (typeUrl) {
    case TYPE.cluster:
      if (!gateway) return sidecarClusters(ctx, proxy);
      const opts = { proxyless: false, proxyNamespace: proxy.namespace };
      return [...ctx.visibleServices(proxy).flatMap((s) => serviceClusters(ctx, s, opts)), ...staticClusters()];
    case TYPE.listener:
      return gateway ? gatewayListeners(ctx, proxy) : sidecarListeners(ctx, proxy);
    default:
      return [];
  }
}

/** One named resource (RDS, EDS, SDS) for an Envoy proxy; undefined when the name matches nothing. */
export function envoyNamed(ctx: PushContext, proxy: ProxyInfo, typeUrl: string, name: string): Msg | undefined {
  switch (typeUrl) {
    case TYPE.route:
      return proxy.type === 'router' ? gatewayRoute(ctx, proxy, name) : sidecarRoute(ctx, proxy, name);
    case TYPE.endpoint:
      return buildLoadAssignment(ctx, name, proxy.namespace);
    case TYPE.secret:
      return generateSecret(ctx, proxy, name);
    default:
      return undefined;
  }
}
