// Part 2: `istioctl proxy-status --xds-address` against a control plane with a few proxies connected. Each
// proxy is an ADS client (test/helpers/ads-client.ts) that subscribes to CDS and LDS, SotW or Delta, and
// ACKs every response, as Envoy does once it applies a config; its node carries what pilot-agent sends
// (NAMESPACE, CLUSTER_ID, ISTIO_VERSION, PROXY_CONFIG). istioctl asks istio.io/debug/syncz on its own ADS
// stream (istioctl/pkg/multixds, pkg/adsc) and prints the ClientConfigs; with `-o json` the harness reads
// them back and checks that every proxy is listed with SYNCED for each type it subscribed to.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KeyPairPem } from '../../../src/ca/self-signed.js';
import { TYPE } from '../../../src/xds/protos.js';
import { AdsClient, node, type AdsStream, type DeltaResponse, type SotwResponse } from '../../helpers/ads-client.js';
import { workloadCert } from '../../helpers/mesh-certs.js';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from '../../../src/xds/ads.js';

const run = promisify(execFile);
const TYPES = [TYPE.cluster, TYPE.listener];

export interface Proxy {
  /** istiod's proxy ID, `<pod>.<namespace>`: what proxy-status lists. */
  id: string;
  delta: boolean;
  close(): void;
}

const proxyId = (pod: string, ns: string, ip: string): string => `sidecar~${ip}~${pod}.${ns}~${ns}.svc.cluster.local`;

/** A proxy that subscribes to CDS and LDS and ACKs everything it is sent. */
export function connectProxy(address: string, pod: string, ns: string, ip: string, delta: boolean): Proxy {
  const client = new AdsClient(address);
  const nodeId = proxyId(pod, ns, ip);
  const id = `${pod}.${ns}`;
  const meta = { NAMESPACE: ns, CLUSTER_ID: 'Kubernetes', ISTIO_VERSION: '1.31.0', PROXY_CONFIG: {}, LABELS: { app: pod } };
  let stopped = false;
  const pump = async <Req, Res extends { type_url: string; nonce: string }>(s: AdsStream<Req, Res>, ack: (r: Res) => Req): Promise<void> => {
    while (!stopped) {
      const r = await s.next(500);
      if (r) s.send(ack(r));
    }
  };
  if (delta) {
    const s = client.delta();
    TYPES.forEach((t, i) => s.send({ ...(i === 0 ? { node: node(nodeId, meta) } : {}), type_url: t } as DeltaDiscoveryRequest));
    void pump<DeltaDiscoveryRequest, DeltaResponse>(s, (r) => ({ type_url: r.type_url, response_nonce: r.nonce }));
    return { id, delta, close: () => ((stopped = true), s.close(), client.close()) };
  }
  const s = client.sotw();
  TYPES.forEach((t, i) => s.send({ ...(i === 0 ? { node: node(nodeId, meta) } : {}), type_url: t } as DiscoveryRequest));
  void pump<DiscoveryRequest, SotwResponse>(s, (r) => ({ type_url: r.type_url, response_nonce: r.nonce, version_info: r.version_info }));
  return { id, delta, close: () => ((stopped = true), s.close(), client.close()) };
}

export function connectProxies(address: string): Proxy[] {
  return [
    connectProxy(address, 'productpage-v1-0', 'bookinfo', '10.244.0.11', false),
    connectProxy(address, 'reviews-v2-0', 'bookinfo', '10.244.0.12', false),
    connectProxy(address, 'web-0', 'shop', '10.244.0.13', true),
  ];
}

export interface IstioctlAnswer {
  ok: boolean;
  output: string;
  /** proxy id -> type URL -> config status, from `-o json`. */
  statuses: Map<string, Record<string, string>>;
}

interface SynczJson {
  resources?: Array<{ node?: { id?: string }; genericXdsConfigs?: Array<{ typeUrl?: string; configStatus?: string }> }>;
}

/** Runs `istioctl proxy-status -o json` with the given connection flags. */
export async function proxyStatus(bin: string, kubeconfig: string, flags: string[]): Promise<IstioctlAnswer> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, KUBECONFIG: kubeconfig };
  try {
    const { stdout } = await run(bin, ['proxy-status', '-o', 'json', '--timeout', '10s', ...flags], { env, timeout: 60_000 });
    const statuses = new Map<string, Record<string, string>>();
    for (const r of (JSON.parse(stdout) as SynczJson).resources ?? []) {
      statuses.set(r.node?.id ?? '', Object.fromEntries((r.genericXdsConfigs ?? []).map((g) => [g.typeUrl ?? '', g.configStatus ?? ''])));
    }
    return { ok: true, output: stdout, statuses };
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr || err.message}`.trim(), statuses: new Map() };
  }
}

/** The proxies istioctl lists with SYNCED for every type they subscribed to. */
export function syncedProxies(answer: IstioctlAnswer, proxies: Proxy[]): Proxy[] {
  return proxies.filter((p) => {
    const s = answer.statuses.get(p.id);
    return s !== undefined && TYPES.every((t) => s[t] === 'SYNCED');
  });
}

/** istioctl's --cert-dir: a client certificate for istio-system/default (the identity istioctl's node claims). */
export function writeCertDir(dir: string, ca: KeyPairPem, rootsPem: string): void {
  const cert = workloadCert(ca, 'spiffe://cluster.local/ns/istio-system/sa/default');
  writeFileSync(join(dir, 'cert-chain.pem'), cert.certPem);
  writeFileSync(join(dir, 'key.pem'), cert.keyPem);
  writeFileSync(join(dir, 'root-cert.pem'), rootsPem);
}

/** Waits until every proxy is SYNCED in istioctl's answer (or the deadline); returns the last answer. */
export async function settledProxyStatus(bin: string, kubeconfig: string, flags: string[], proxies: Proxy[], ms = 20_000): Promise<IstioctlAnswer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const a = await proxyStatus(bin, kubeconfig, flags);
    if (!a.ok || syncedProxies(a, proxies).length === proxies.length || Date.now() > deadline) return a;
    await new Promise((r) => setTimeout(r, 500));
  }
}
