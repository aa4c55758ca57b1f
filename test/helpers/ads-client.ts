// A protocol-level ADS client on @grpc/grpc-js with meshd's own codec: it sends exactly the requests a
// test writes (SotW or Delta) and hands back each response decoded, so tests can assert on versions,
// nonces, ACK/NACK handling and what is (not) sent.
import * as grpc from '@grpc/grpc-js';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from '../../src/xds/ads.js';
import { decodeMessage } from '../../src/xds/protos.js';
import { adsServiceDefinition } from '../../src/xds/server.js';
import { toStruct } from '../../src/xds/gen/common.js';

const Ads = grpc.makeGenericClientConstructor(adsServiceDefinition(), 'AggregatedDiscoveryService');

export interface SotwResponse {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: Array<{ type_url: string; value: Uint8Array }>;
}

export interface DeltaResponse {
  system_version_info: string;
  type_url: string;
  nonce: string;
  removed_resources?: string[];
  resources?: Array<{ name: string; version: string; resource: { type_url: string; value: Uint8Array } }>;
}

export function node(id: string, metadata: Record<string, unknown> = {}): object {
  return { id, metadata: toStruct(metadata) };
}

export class AdsStream<Req, Res> {
  private readonly queue: Res[] = [];
  private waiter: ((r: Res) => void) | undefined;
  error: grpc.ServiceError | undefined;
  private readonly ended: Promise<void>;

  constructor(private readonly call: grpc.ClientDuplexStream<Req, Res>) {
    call.on('data', (r: Res) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(r);
      } else this.queue.push(r);
    });
    this.ended = new Promise((resolve) => {
      call.on('error', (e: grpc.ServiceError) => {
        this.error = e;
        resolve();
      });
      call.on('end', () => resolve());
    });
  }

  send(req: Req): void {
    this.call.write(req);
  }

  /** The next response, or undefined if none arrives within `ms`. */
  async next(ms = 3_000): Promise<Res | undefined> {
    const queued = this.queue.shift();
    if (queued) return queued;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, ms);
      this.waiter = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  async mustNext(ms = 3_000): Promise<Res> {
    const r = await this.next(ms);
    if (!r) throw new Error(`no response within ${ms} ms${this.error ? ` (stream failed: ${this.error.message})` : ''}`);
    return r;
  }

  /** Resolves with the stream's error status once it ends. */
  async failure(): Promise<grpc.ServiceError | undefined> {
    await this.ended;
    return this.error;
  }

  /** Stops reading responses, like a client that is stuck: HTTP/2 flow control soon holds the server's back. */
  pause(): void {
    this.call.pause();
  }

  close(): void {
    this.call.cancel();
  }
}

export class AdsClient {
  private readonly client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(address: string, creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.client = new Ads(address, creds, options) as never;
  }

  sotw(): AdsStream<DiscoveryRequest, SotwResponse> {
    const call = this.client.StreamAggregatedResources!() as grpc.ClientDuplexStream<DiscoveryRequest, SotwResponse>;
    call.on('error', () => undefined);
    return new AdsStream(call);
  }

  delta(): AdsStream<DeltaDiscoveryRequest, DeltaResponse> {
    const call = this.client.DeltaAggregatedResources!() as grpc.ClientDuplexStream<DeltaDiscoveryRequest, DeltaResponse>;
    call.on('error', () => undefined);
    return new AdsStream(call);
  }

  close(): void {
    this.client.close();
  }
}

/** Decoded resources of a SotW response. */
export function decoded<T = Record<string, any>>(r: SotwResponse): T[] {
  return r.resources.map((x) => decodeMessage<T>(x.type_url, x.value));
}

export const names = (r: SotwResponse): string[] => decoded<{ name?: string; cluster_name?: string }>(r).map((x) => x.name ?? x.cluster_name ?? '');
