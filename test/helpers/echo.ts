// gRPC echo backends that answer with their version label, and clients for them: a plain client, and
// proxyless clients through meshd's xDS server (`xds:///host:port`) with a per-channel bootstrap so
// each client has its own ADS stream and node.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { XdsChannelCredentials } from '@grpc/grpc-js-xds';

const def = protoLoader.loadSync(join(import.meta.dirname, 'echo.proto'), { keepCase: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as { meshd: { test: { Echo: grpc.ServiceClientConstructor } } };
export const EchoClient = pkg.meshd.test.Echo;

export interface Backend {
  version: string;
  port: number;
  server: grpc.Server;
  calls: number;
}

/** A backend on `host` (default 127.0.0.1; the e2e suite uses a pod address, which EndpointSlice v1 requires). */
export async function startBackend(version: string, port = 0, server: grpc.Server = new grpc.Server(), creds: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(), host = '127.0.0.1'): Promise<Backend> {
  const backend: Backend = { version, port: 0, server, calls: 0 };
  server.addService(EchoClient.service, {
    Echo: (call: grpc.ServerUnaryCall<{ message: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      backend.calls++;
      cb(null, { version, message: call.request.message });
    },
  });
  backend.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return backend;
}

export interface BootstrapOptions {
  namespace?: string;
  labels?: Record<string, string>;
  /** A directory with cert-chain.pem, key.pem and root-cert.pem, as istio-agent writes them for gRPC. */
  certDir?: string;
}

export function bootstrap(xdsPort: number, nodeId: string, opts: BootstrapOptions = {}): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: nodeId, locality: {}, metadata: { GENERATOR: 'grpc', NAMESPACE: opts.namespace ?? 'default', ...(opts.labels ? { LABELS: opts.labels } : {}) } },
    server_listener_resource_name_template: 'xds.istio.io/grpc/lds/inbound/%s',
    ...(opts.certDir
      ? {
          certificate_providers: {
            default: {
              plugin_name: 'file_watcher',
              config: { certificate_file: join(opts.certDir, 'cert-chain.pem'), private_key_file: join(opts.certDir, 'key.pem'), ca_certificate_file: join(opts.certDir, 'root-cert.pem'), refresh_interval: '900s' },
            },
          },
        }
      : {}),
  };
}

export type Echo = grpc.Client & { Echo(req: { message: string }, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { version: string }) => void): void };

/** A proxyless client; with `opts.certDir` it speaks TLS where xDS says so (XdsChannelCredentials). */
export function xdsClient(target: string, xdsPort: number, nodeId: string, opts: BootstrapOptions = {}): Echo {
  const creds = opts.certDir ? new XdsChannelCredentials(grpc.credentials.createInsecure()) : grpc.credentials.createInsecure();
  return new EchoClient(`xds:///${target}`, creds, {
    'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap(xdsPort, nodeId, opts)),
  }) as unknown as Echo;
}

export interface CallResult {
  version?: string;
  code?: number;
  details?: string;
  ms: number;
}

export function call(client: Echo, headers: Record<string, string> = {}, deadlineMs = 5_000): Promise<CallResult> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  const start = Date.now();
  return new Promise((resolve) =>
    client.Echo({ message: 'hi' }, md, { deadline: Date.now() + deadlineMs }, (err, res) =>
      resolve(err ? { code: err.code, details: err.details, ms: Date.now() - start } : { version: res?.version, ms: Date.now() - start }),
    ),
  );
}

/** Version counts over `n` concurrent calls. */
export async function spread(client: Echo, n: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const results = await Promise.all(Array.from({ length: n }, () => call(client, headers)));
  const counts: Record<string, number> = {};
  for (const r of results) {
    const k = r.version ?? `error:${r.code}`;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}
