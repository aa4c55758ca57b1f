// What the agent must have produced, checked from its outputs alone: the certificate files it writes for
// the gRPC app (OUTPUT_CERTS) and the gRPC bootstrap (GRPC_XDS_BOOTSTRAP). Each check returns the
// problems it found, none when the output is right.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { splitPem } from '../../../src/ca/self-signed.js';
import { uriSans } from '../../../src/security/authenticate.js';

export interface CertFiles {
  chainPem: string;
  keyPem: string;
  rootPem: string;
}

/** The leaf names exactly `identity`, is valid now, matches the key, and chains to one of `meshRootsPem`. */
export function checkWorkloadCert(
  files: CertFiles,
  meshRootsPem: string,
  identity: string,
  now = new Date(),
): string[] {
  const problems: string[] = [];
  let chain: X509Certificate[];
  let roots: X509Certificate[];
  try {
    chain = splitPem(files.chainPem).map((c) => new X509Certificate(c));
    roots = splitPem(meshRootsPem).map((c) => new X509Certificate(c));
  } catch (e) {
    return [`a certificate does not parse: ${(e as Error).message}`];
  }
  const leaf = chain[0];
  if (!leaf) return ['cert-chain.pem holds no certificate'];
  const sans = uriSans(leaf.subjectAltName);
  if (sans.length !== 1 || sans[0] !== identity)
    problems.push(`the leaf names ${JSON.stringify(sans)}, not [${identity}]`);
  const t = now.getTime();
  if (t < new Date(leaf.validFrom).getTime() || t > new Date(leaf.validTo).getTime())
    problems.push(`the leaf is not valid now (${leaf.validFrom} - ${leaf.validTo})`);
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(files.keyPem))) problems.push('key.pem is not the leaf’s key');
  } catch (e) {
    problems.push(`key.pem does not parse: ${(e as Error).message}`);
  }
  // Each certificate is signed by the next; the last by a mesh root (or it is one).
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.verify(chain[i + 1]!.publicKey))
      problems.push(`certificate ${i} of the chain is not signed by certificate ${i + 1}`);
  }
  const last = chain[chain.length - 1]!;
  const anchored = roots.some((r) => last.raw.equals(r.raw) || (last.checkIssued(r) && last.verify(r.publicKey)));
  if (!anchored) problems.push('the chain does not end at meshd’s root');
  let fileRoots: X509Certificate[] = [];
  try {
    fileRoots = splitPem(files.rootPem).map((c) => new X509Certificate(c));
  } catch {
    problems.push('root-cert.pem does not parse');
  }
  if (!fileRoots.some((f) => roots.some((r) => f.raw.equals(r.raw))))
    problems.push('root-cert.pem does not hold meshd’s root');
  return problems;
}

/** The parts of a gRPC xDS bootstrap (gRFC A27) the agent writes and a client reads. */
export interface GrpcBootstrap {
  xds_servers?: Array<{ server_uri?: string; channel_creds?: Array<{ type?: string }>; server_features?: string[] }>;
  node?: { id?: string; metadata?: Record<string, unknown> };
  certificate_providers?: Record<string, { plugin_name?: string; config?: Record<string, unknown> }>;
  server_listener_resource_name_template?: string;
}

export interface BootstrapExpectation {
  /** The agent's xDS proxy socket. */
  socket: string;
  nodeId: string;
  namespace: string;
  serviceAccount: string;
  certDir: string;
}

/** The agent's own socket as the only server, the pod's node id and metadata, and its certificate files. */
export function checkBootstrap(b: GrpcBootstrap, want: BootstrapExpectation): string[] {
  const problems: string[] = [];
  const servers = b.xds_servers ?? [];
  const uri = servers[0]?.server_uri ?? '';
  // gRPC reads unix:///p as the absolute path /p; the agent writes `unix:///` before an absolute path.
  const path = uri.startsWith('unix:') ? uri.slice('unix:'.length).replace(/^\/+/, '/') : '';
  if (servers.length !== 1 || path !== want.socket)
    problems.push(`xds_servers is ${JSON.stringify(servers)}, not the agent's socket ${want.socket}`);
  if (b.node?.id !== want.nodeId) problems.push(`node.id is ${JSON.stringify(b.node?.id)}, not ${want.nodeId}`);
  const meta = b.node?.metadata ?? {};
  for (const [k, v] of [
    ['GENERATOR', 'grpc'],
    ['NAMESPACE', want.namespace],
    ['SERVICE_ACCOUNT', want.serviceAccount],
  ] as const) {
    if (meta[k] !== v) problems.push(`node.metadata.${k} is ${JSON.stringify(meta[k])}, not ${v}`);
  }
  const provider = b.certificate_providers?.default;
  const cfg = provider?.config ?? {};
  const files = {
    certificate_file: 'cert-chain.pem',
    private_key_file: 'key.pem',
    ca_certificate_file: 'root-cert.pem',
  };
  if (provider?.plugin_name !== 'file_watcher') problems.push('no file_watcher certificate provider named default');
  else
    for (const [k, f] of Object.entries(files))
      if (cfg[k] !== `${want.certDir}/${f}`)
        problems.push(`certificate provider ${k} is ${JSON.stringify(cfg[k])}, not ${want.certDir}/${f}`);
  return problems;
}
