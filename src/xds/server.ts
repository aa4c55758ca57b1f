// The ADS service on gRPC: 15010 in plain text and 15012 with TLS from meshd's CA, like istiod. Requests
// are decoded and responses encoded with meshd's own proto root (resources arrive already encoded).
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../telemetry/logger.js';
import type { Connection, DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse, DiscoveryServer, StreamSink } from './ads.js';
import { messageType, DECODE_OPTIONS } from './protos.js';
import { authenticate, grpcAuthRequest, type Authenticator } from '../security/authenticate.js';
import { checkConnectionIdentity } from '../security/xds-identity.js';
import { NodeError, parseProxy } from './proxy.js';
import { ServingCredentials, type ServingTls } from './serving-credentials.js';
import type { TlsMinVersion } from '../net/tls-policy.js';

export type { ServingTls };

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

/**
 * How the streams of one port are authenticated (istiod's DiscoveryServer.authenticate and authorize):
 * `authenticate` gives the caller's identities, undefined when the port does not authenticate (plain
 * text, or XDS_AUTH=false), and throws when the caller cannot be authenticated.
 */
export interface StreamAuth {
  authenticate(call: grpc.ServerDuplexStream<unknown, unknown>): Promise<string[] | undefined>;
  /** PILOT_ENABLE_XDS_IDENTITY_CHECK: the node's namespace and service account must be the identity's. */
  identityCheck: boolean;
}

/** The secure port's authentication from authenticators (XDS_AUTH=false: none at all, as with istiod). */
export function streamAuth(authenticators: Authenticator[], opts: { xdsAuth: boolean; identityCheck: boolean }): StreamAuth {
  return {
    identityCheck: opts.identityCheck,
    authenticate: async (call) => (opts.xdsAuth ? (await authenticate(grpcAuthRequest(call), authenticators)).identities : undefined),
  };
}

const UNAUTHENTICATED_PORT: StreamAuth = { authenticate: async () => undefined, identityCheck: true };
const REFUSE_ALL: StreamAuth = {
  authenticate: async () => {
    throw new Error('no authenticator is configured');
  },
  identityCheck: true,
};

/**
 * Binds one bidirectional stream to the protocol core: the caller is authenticated first (nothing is
 * read or generated before), then the first message names the node, which must match the identity.
 */
function serveStream<Req extends { node?: unknown }, Res>(
  discovery: DiscoveryServer,
  delta: boolean,
  logger: Logger,
  auth: StreamAuth,
  call: grpc.ServerDuplexStream<Req, Res>,
): void {
  let conn: Connection | undefined;
  let identities: string[] | undefined;
  let authenticated = false;
  let failed = false;
  const early: Req[] = [];
  const peer = call.getPeer();
  const fail = (code: grpc.status, details: string): void => {
    failed = true;
    call.emit('error', { code, details });
  };
  const handle = (req: Req): void => {
    if (failed) return;
    try {
      if (!conn) {
        if (!discovery.context) return fail(grpc.status.UNAVAILABLE, 'server is not ready to serve discovery information');
        const proxy = parseProxy(req.node as Parameters<typeof parseProxy>[0]);
        if (identities !== undefined && auth.identityCheck) {
          const check = checkConnectionIdentity(proxy, identities);
          if (!check.ok) {
            logger.warn({ peer, proxy: proxy.id, identities, err: check.error }, 'unauthorized xDS stream');
            return fail(grpc.status.PERMISSION_DENIED, `authorization failed: ${check.error}`);
          }
          proxy.verifiedIdentity = check.identity;
        }
        conn = discovery.connect(proxy, delta, sinkOf(call) as Connection['sink']);
        logger.debug({ proxy: proxy.id, delta, identities }, 'xDS stream connected');
      }
      if (delta) discovery.handleDelta(conn, req as DeltaDiscoveryRequest);
      else discovery.handleSotw(conn, req as DiscoveryRequest);
    } catch (err) {
      if (err instanceof NodeError) return fail(grpc.status.INVALID_ARGUMENT, err.message);
      logger.error({ err: (err as Error).message }, 'xDS request failed');
      fail(grpc.status.INTERNAL, (err as Error).message);
    }
  };
  call.on('data', (req: Req) => (authenticated ? handle(req) : early.push(req)));
  // Reading stops until the caller is authenticated, so an unauthenticated one cannot queue requests.
  call.pause();
  auth.authenticate(call as grpc.ServerDuplexStream<unknown, unknown>).then(
    (ids) => {
      identities = ids;
      authenticated = true;
      for (const req of early.splice(0)) handle(req);
      call.resume();
    },
    (err: Error) => {
      logger.warn({ peer, err: err.message }, 'xDS client not authenticated');
      fail(grpc.status.UNAUTHENTICATED, 'authentication failure');
    },
  );
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

export interface GrpcService {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface XdsListenOptions {
  address: string;
  plainPort?: number;
  tlsPort?: number;
  tls?: ServingTls;
  tlsMinVersion?: TlsMinVersion;
  /** Served on the secure port only, beside ADS (istiod's CA service). */
  secureServices?: GrpcService[];
  /** Authentication on the secure port; without it every stream there is refused (the plain port never authenticates). */
  secureAuth?: StreamAuth;
}

export interface XdsServer {
  plainPort?: number;
  tlsPort?: number;
  /** Serves a new certificate on the secure port (existing connections keep theirs). */
  setTls(tls: ServingTls): void;
  stop(): Promise<void>;
}

type Creds = grpc.ServerCredentials;
const bind = (server: grpc.Server, addr: string, creds: Creds, what: string): Promise<number> =>
  new Promise((resolve, reject) =>
    server.bindAsync(addr, creds, (err, port) =>
      err ? reject(new Error(`cannot listen on ${addr} (${what}): ${bindReason(err)}`)) : resolve(port)),
  );

/** grpc-js wraps the socket error in a sentence about resolved addresses: keep the socket's reason. */
const bindReason = (err: Error): string => {
  if (err.message.includes('EADDRINUSE')) return 'address already in use';
  if (err.message.includes('EACCES')) return 'permission denied';
  return err.message;
};

const hostPort = (address: string, port: number): string => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

function grpcServer(discovery: DiscoveryServer, logger: Logger, extra: GrpcService[], auth: StreamAuth): grpc.Server {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 });
  server.addService(adsServiceDefinition(), {
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => serveStream(discovery, false, logger, auth, call),
    DeltaAggregatedResources: (call: grpc.ServerDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse>) => serveStream(discovery, true, logger, auth, call),
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
  const creds = opts.tls ? new ServingCredentials(opts.tls, opts.tlsMinVersion) : undefined;
  const out: XdsServer = {
    setTls: (tls) => creds?.set(tls),
    stop: async () => {
      await Promise.all(servers.map(shutdown));
    },
  };
  try {
    if (opts.plainPort !== undefined) {
      const plain = grpcServer(discovery, logger, [], UNAUTHENTICATED_PORT);
      servers.push(plain);
      const insecure = grpc.ServerCredentials.createInsecure();
      out.plainPort = await bind(plain, hostPort(opts.address, opts.plainPort), insecure, 'xDS port');
    }
    if (opts.tlsPort !== undefined && creds) {
      const secure = grpcServer(discovery, logger, opts.secureServices ?? [], opts.secureAuth ?? REFUSE_ALL);
      servers.push(secure);
      out.tlsPort = await bind(secure, hostPort(opts.address, opts.tlsPort), creds, 'xDS TLS port');
    }
  } catch (err) {
    // One port taken must not leave the other serving.
    await out.stop();
    throw err;
  }
  return out;
}
