// The xDS benches' proxyless client, protocol-level (test/helpers/ads-client) and behaving like
// grpc-js-xds: SotW with node metadata GENERATOR=grpc, LDS by target, then the RDS, CDS and EDS names each
// response names, ACKing everything. Hundreds of real grpc-js-xds channels in one process would measure
// the client, not the control plane.
import * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequest } from '../src/xds/ads.js';
import { decodeMessage, TYPE } from '../src/xds/protos.js';
import { AdsClient, node, type AdsStream, type SotwResponse } from '../test/helpers/ads-client.js';
import { NS } from './xds-mesh.js';

/** Every client's responses together: how many, and when the last one came (to tell when a push is over). */
export const traffic = { responses: 0, lastAt: 0 };

export class Client {
  acked = new Map<string, string>();
  routeAckedAt = 0;
  /** The weighted clusters of the routes last received, and when they last changed. */
  routeDigest = '';
  routeChangedAt = 0;
  private names = new Map<string, string[]>();

  constructor(readonly id: number, readonly stream: AdsStream<DiscoveryRequest, SotwResponse>, readonly target: string) {
    void this.loop();
    this.subscribe(TYPE.listener, [target], node(`sidecar~10.0.${id >> 8}.${id & 255}~client-${id}.${NS}~${NS}.svc.cluster.local`, { GENERATOR: 'grpc', NAMESPACE: NS }));
  }

  private subscribe(typeUrl: string, names: string[], n?: object): void {
    if (this.names.get(typeUrl)?.join() === names.join()) return;
    this.names.set(typeUrl, names);
    this.stream.send({ ...(n ? { node: n } : {}), type_url: typeUrl, resource_names: names, version_info: this.acked.get(typeUrl) ?? '', response_nonce: '' });
  }

  private async loop(): Promise<void> {
    for (;;) {
      const r = await this.stream.next(600_000);
      if (!r) return;
      traffic.responses++;
      traffic.lastAt = performance.now();
      const resources = r.resources.map((x) => decodeMessage<Record<string, any>>(x.type_url, x.value));
      this.stream.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: this.names.get(r.type_url) ?? [] });
      this.acked.set(r.type_url, r.version_info);
      if (r.type_url === TYPE.listener) this.subscribe(TYPE.route, resources.map((l) => l.api_listener.api_listener.value ? decodeMessage<Record<string, any>>(l.api_listener.api_listener.type_url, l.api_listener.api_listener.value).rds.route_config_name : ''));
      if (r.type_url === TYPE.route) {
        this.routeAckedAt = performance.now();
        const clusters = new Set<string>();
        const weights: string[] = [];
        for (const rc of resources) for (const vh of rc.virtual_hosts) for (const rt of vh.routes) {
          if (rt.route?.cluster) clusters.add(rt.route.cluster);
          for (const w of rt.route?.weighted_clusters?.clusters ?? []) {
            clusters.add(w.name);
            weights.push(`${w.name}=${w.weight?.value ?? w.weight}`);
          }
        }
        const digest = weights.join(',');
        if (digest !== this.routeDigest) [this.routeDigest, this.routeChangedAt] = [digest, this.routeAckedAt];
        this.subscribe(TYPE.cluster, [...clusters].sort());
      }
      if (r.type_url === TYPE.cluster) this.subscribe(TYPE.endpoint, resources.map((c) => c.eds_cluster_config?.service_name ?? c.name).sort());
    }
  }

  synced(): boolean {
    return [TYPE.listener, TYPE.route, TYPE.cluster, TYPE.endpoint].every((t) => this.acked.has(t));
  }
}

/** `count` clients of `services` targets on `address`, spread over 50 channels of 40 streams each. */
export function connectClients(address: string, count: number, services: number): { clients: Client[]; close(): void } {
  // Each real client would have its own channel; 2,000 channels in one process would measure grpc-js.
  const channels = Array.from({ length: 50 }, () => new AdsClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  const clients = Array.from({ length: count }, (_, i) => new Client(i, channels[i % channels.length]!.sotw(), `svc-${i % services}.${NS}.svc.cluster.local:8080`));
  return {
    clients,
    close: () => {
      for (const c of clients) c.stream.close();
      for (const ch of channels) ch.close();
    },
  };
}
