// The ADS service on gRPC: 15010 in plain text and 15012 with TLS from meshd's CA, like istiod. Requests
// are decoded and responses encoded with meshd's own proto root (resources arrive already encoded).
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../telemetry/logger.js';
import type { Connection, DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse, DiscoveryServer, StreamSink } from './ads.js';
import { messageType, DECODE_OPTIONS } from './protos.js';
import { NodeError, parseProxy } from './proxy.js';

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService/';

function codec<T>(typeName: string): { serialize(v: T): Buffer; deserialize(b: Buffer): T } {
  const type = messageType(typeName);
  return {
    serialize: (v) => Buffer.from(type.encode(type.fromObject(v as object)).finish()),
    deserialize: (b) => type.toObject(type.decode(b), DECODE_OPTIONS) as T,
  };
}

function method<Req, Res>(name: string, req: string, res: string): grpc.MethodDefinition<Req, Res> {
  const rq = codec<Req>(req);
  const rs = codec<Res>(res);
  return {
    path: SERVICE + name,
    requestStream: true,
    responseStream: true,
    requestSerialize: rq.serialize,
    requestDeserialize: rq.deserialize,
    responseSerialize: rs.serialize,
    responseDeserialize: rs.deserialize,
  };
}

export function adsServiceDefinition(): grpc.ServiceDefinition {
  return {
    StreamAggregatedResources: method<DiscoveryRequest, DiscoveryResponse>('StreamAggregatedResources', 'envoy.service.discovery.v3.DiscoveryRequest', 'envoy.service.discovery.v3.DiscoveryResponse'),
    DeltaAggregatedResources: method<DeltaDiscoveryRequest, DeltaDiscoveryResponse>('DeltaAggregatedResources', 'envoy.service.discovery.v3.DeltaDiscoveryRequest', 'envoy.service.discovery.v3.DeltaDiscoveryResponse'),
  };
}

/**
 * The HTTP/2 stream under a grpc-js server call (through any interceptors). grpc-js has no public way to reset
 * one stream, and the status it sends waits behind the queued responses, which a client that does not read
 * never takes.
 */
function http2StreamOf(call: object): http2.Http2Stream | undefined {
  let c: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; c && depth < 16; depth++) {
    const stream = (c as { stream?: unknown }).stream;
    const isStream = typeof stream === 'object' && stream !== null && 'rstCode' in stream;
    if (isStream && typeof (stream as http2.Http2Stream).close === 'function') return stream as http2.Http2Stream;
    c = (c as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

function sinkOf<T>(call: grpc.ServerDuplexStream<unknown, T>): StreamSink<T> {
  const reset = (): void => {
    const stream = http2StreamOf(call);
    if (stream && !stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    else call.destroy();
  };
  return {
    write: (msg, taken) => void call.write(msg, () => taken()),
    reading: (on) => void (on ? call.resume() : call.pause()),
    close: (code, details, resetAfterMs) => {
      const queued = call.writableLength > 0;
      call.emit('error', { code, details });
      // The status follows the queued responses: a stream that cannot take them in time is reset.
      if (queued && resetAfterMs > 0) {
        const timer = setTimeout(reset, resetAfterMs).unref();
        call.once('close', () => clearTimeout(timer));
      }
    },
    reset,
  };
}

/** Binds one bidirectional stream to the protocol core: the first message names the node. */
function serveStream<Req extends { node?: unknown }, Res>(
  discovery: DiscoveryServer,
  delta: boolean,
  logger: Logger,
  call: grpc.ServerDuplexStream<Req, Res>,
): void {
  let conn: Connection | undefined;
  const fail = (code: grpc.status, details: string): void => {
    call.emit('error', { code, details });
  };
  call.on('data', (req: Req) => {
    try {
      if (!conn) {
        if (!discovery.context) return fail(grpc.status.UNAVAILABLE, 'server is not ready to serve discovery information');
        const proxy = parseProxy(req.node as Parameters<typeof parseProxy>[0]);
        conn = discovery.connect(proxy, delta, sinkOf(call) as Connection['sink']);
        logger.debug({ proxy: proxy.id, delta }, 'xDS stream connected');
      }
      if (delta) discovery.handleDelta(conn, req as DeltaDiscoveryRequest);
      else discovery.handleSotw(conn, req as DiscoveryRequest);
    } catch (err) {
      if (err instanceof NodeError) return fail(grpc.status.INVALID_ARGUMENT, err.message);
      logger.error({ err: (err as Error).message }, 'xDS request failed');
      fail(grpc.status.INTERNAL, (err as Error).message);
    }
  });
  const close = (): void => {
    if (conn) discovery.disconnect(conn);
  };
  call.on('end', () => {
    close();
    call.end();
  });
  call.on('cancelled', close);
  call.on('close', close);
  call.on('error', close);
}

export interface ServingTls {
  cert: string;
  key: string;
  roots: string;
}

/**
 * The secure port's certificate as a grpc-js certificate provider, so a re-issued serving certificate
 * reaches new connections without a restart (grpc-js' createSsl credentials are fixed).
 */
class ServingCertificateProvider implements grpc.experimental.CertificateProvider {
  private readonly ca = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identity = new Set<grpc.experimental.IdentityCertificateUpdateListener>();

  constructor(private tls: ServingTls) {}

  set(tls: ServingTls): void {
    this.tls = tls;
    for (const l of this.ca) l({ caCertificate: Buffer.from(tls.roots) });
    for (const l of this.identity) l({ certificate: Buffer.from(tls.cert), privateKey: Buffer.from(tls.key) });
  }

  // grpc-js registers its watcher only after adding these listeners, so the first update must come later.
  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.ca.add(l);
    setImmediate(() => this.ca.has(l) && l({ caCertificate: Buffer.from(this.tls.roots) }));
  }

  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.ca.delete(l);
  }

  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identity.add(l);
    setImmediate(() => this.identity.has(l) && l({ certificate: Buffer.from(this.tls.cert), privateKey: Buffer.from(this.tls.key) }));
  }

  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identity.delete(l);
  }
}

export interface GrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface XdsListenOptions {
  address: string;
  plainPort?: number;
  tlsPort?: number;
  tls?: ServingTls;
  /** Served on the secure port only, beside ADS (istiod's CA service). */
  secureServices?: GrpcService[];
}

export interface XdsServer {
  plainPort?: number;
  tlsPort?: number;
  /** Serves a new certificate on the secure port (existing connections keep theirs). */
  setTls(tls: ServingTls): void;
  stop(): Promise<void>;
}

const bind = (server: grpc.Server, addr: string, creds: grpc.ServerCredentials): Promise<number> =>
  new Promise((resolve, reject) => server.bindAsync(addr, creds, (err, port) => (err ? reject(err) : resolve(port))));

const hostPort = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function grpcServer(discovery: DiscoveryServer, logger: Logger, extra: GrpcService[]): grpc.Server {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 });
  server.addService(adsServiceDefinition(), {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => serveStream(discovery, false, logger, call),
    DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => serveStream(discovery, true, logger, call),
  });
  for (const s of extra) server.addService(s.definition, s.implementation);
  return server;
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2_000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** ADS in plain text on one port and over TLS (with the secure-only services) on the other, like istiod's 15010 and 15012. */
export async function startXdsServer(discovery: DiscoveryServer, opts: XdsListenOptions, logger: Logger): Promise<XdsServer> {
  const servers: grpc.Server[] = [];
  const provider = opts.tls ? new ServingCertificateProvider(opts.tls) : undefined;
  const out: XdsServer = {
    setTls: (tls) => provider?.set(tls),
    stop: async () => {
      await Promise.all(servers.map(shutdown));
    },
  };
  if (opts.plainPort !== undefined) {
    const plain = grpcServer(discovery, logger, []);
    servers.push(plain);
    out.plainPort = await bind(plain, hostPort(opts.address, opts.plainPort), grpc.ServerCredentials.createInsecure());
  }
  if (opts.tlsPort !== undefined && provider) {
    const secure = grpcServer(discovery, logger, opts.secureServices ?? []);
    servers.push(secure);
    // Client certificates are requested (istio-agent presents one) but not required: CSRs authenticate by token.
    const creds = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
    out.tlsPort = await bind(secure, hostPort(opts.address, opts.tlsPort), creds);
  }
  return out;
}
