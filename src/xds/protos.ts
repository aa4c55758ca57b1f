// The Envoy v3 protos meshd speaks, loaded once from the tree @grpc/grpc-js-xds ships (the only npm
// package that carries them). One protobufjs root serves both the ADS stream codec and the encoding
// of resources, so every type packed into an Any resolves in the same root.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Root, Type } from 'protobufjs';

const require = createRequire(import.meta.url);
// proto-loader's own loader knows where google/protobuf/*.proto live; protobufjs alone does not.
const { addCommonProtos, loadProtosWithOptionsSync } = require('@grpc/proto-loader/build/src/util.js') as {
  addCommonProtos(): void;
  loadProtosWithOptionsSync(files: string[], opts: Record<string, unknown>): Root;
};

const DEPS = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');

const FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/retry/host/previous_hosts/v3/previous_hosts.proto',
  // ClientConfig, the answer to istio.io/debug/syncz.
  'envoy/service/status/v3/csds.proto',
];

export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** Nested Any payloads, written as `'@type': ANY.x` in generated objects. */
export const ANY = {
  hcm: 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcpProxy: 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
  fault: 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
  rbac: 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
  originalDst: 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst',
  tlsInspector: 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
  httpInspector: 'type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector',
  previousHosts: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
  rawBuffer: 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer',
  upstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  downstreamTls: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
} as const;

let root: Root | undefined;

export function protoRoot(): Root {
  if (root) return root;
  addCommonProtos();
  root = loadProtosWithOptionsSync(FILES, {
    keepCase: true,
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(DEPS, d)),
  });
  return root;
}

const types = new Map<string, Type>();

export function messageType(typeUrlOrName: string): Type {
  let t = types.get(typeUrlOrName);
  if (!t) {
    t = protoRoot().lookupType(typeUrlOrName.replace(/^type\.googleapis\.com\//, ''));
    types.set(typeUrlOrName, t);
  }
  return t;
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));

/**
 * Generators write wrapper fields (UInt32Value, BoolValue, ...) as plain numbers and booleans, the way
 * Envoy's JSON does; protobufjs wants `{value}`. This walks the object with its type and wraps them.
 */
function wrapScalars(t: Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = t.fields[k];
    const rt = field?.resolvedType;
    if (!field || !rt || !('fields' in rt) || v === null || v === undefined) {
      out[k] = v;
      continue;
    }
    const msgType = rt as Type;
    const one = (x: unknown): unknown => {
      if (WRAPPERS.has(msgType.fullName) && typeof x !== 'object') return { value: x };
      if (typeof x !== 'object' || x === null) return x;
      const xo = x as Record<string, unknown>;
      if (msgType.fullName === '.google.protobuf.Any' && typeof xo['@type'] === 'string') return { ...wrapScalars(messageType(xo['@type']), xo), '@type': xo['@type'] };
      return wrapScalars(msgType, xo);
    };
    if (field.map) out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([mk, mv]) => [mk, one(mv)]));
    else if (field.repeated && Array.isArray(v)) out[k] = v.map(one);
    else out[k] = one(v);
  }
  return out;
}

/** Encodes a resource object (nested Anys carry '@type') to its wire bytes; throws on invalid fields. */
export function encodeMessage(typeUrl: string, obj: object): Uint8Array {
  const t = messageType(typeUrl);
  return t.encode(t.fromObject(wrapScalars(t, obj as Record<string, unknown>))).finish();
}

export const DECODE_OPTIONS = { longs: String, enums: String, defaults: false, oneofs: true } as const;

export function decodeMessage<T>(typeUrl: string, bytes: Uint8Array): T {
  const t = messageType(typeUrl);
  return t.toObject(t.decode(bytes), DECODE_OPTIONS) as T;
}
