// Part 3, xDS: for each mesh of xds-meshes.ts, a fresh API server holds the mesh, istiod and meshd start
// on it with the same settings (setup.ts), and every proxy of the mesh connects to both with the same node
// (xdsdump, built in test/peers: Envoy sidecars and the gateway over Delta with istio-agent's metadata, the
// proxyless client over SotW); every resource each one sent is compared (xds-compare.ts).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, DiscoveryV1Api, type V1PodSpec } from '@kubernetes/client-node';
import { startMeshd, waitFor } from '../../helpers/meshd-process.js';
import { scratchDir } from '../../helpers/scratch.js';
import { startCluster, type Cluster } from '../../e2e/cluster.js';
import { waitForServiceAccount } from '../../e2e/fixtures.js';
import { kubectl } from '../../e2e/kube-tools.js';
import { toYaml } from '../../helpers/mesh-objects.js';
import { startIstiod } from './istiod.js';
import { configure, meshDefaultProxyConfig, NS } from './setup.js';
import { compareDumps, xdsDiffClass, type Dump, type TypeResult } from './xds-compare.js';
import { MESHES, type Mesh, type MeshPod } from './xds-meshes.js';
import { proxyNode, type ProxySpec } from './xds-nodes.js';

export interface XdsReport {
  lines: string[];
  classes: Map<string, number>;
}

interface Tally {
  total: number;
  identical: number;
  onlyMeshd: number;
  onlyIstiod: number;
  invalidMeshd: number;
  invalidIstiod: number;
  fields: number;
  fieldsEqual: number;
}

const zero = (): Tally => ({ total: 0, identical: 0, onlyMeshd: 0, onlyIstiod: 0, invalidMeshd: 0, invalidIstiod: 0, fields: 0, fieldsEqual: 0 });

/** Runs xdsdump as `proxy` against a control plane's plaintext xDS port. */
export function dump(bin: string, port: number, proxy: ProxySpec, nodeFile: string): Dump {
  const args = ['--addr', `127.0.0.1:${port}`, '--node', nodeFile, '--protocol', proxy.protocol,
    '--mode', proxy.kind === 'proxyless' ? 'grpc' : 'envoy', '--settle', '1500ms', '--timeout', '60s'];
  if (proxy.listeners) args.push('--listeners', proxy.listeners.join(','));
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 512 << 20 });
  if (r.status !== 0) {
    return { resources: {}, invalid: {}, missing: {}, responses: 0, errors: [`xdsdump failed (${r.status}): ${r.stderr.slice(-2000)}`] };
  }
  return JSON.parse(r.stdout) as Dump;
}

async function createPod(core: CoreV1Api, p: MeshPod): Promise<void> {
  const body = { metadata: { name: p.name, namespace: p.namespace, labels: p.labels }, spec: { ...p.spec, nodeName: 'node-a' } as unknown as V1PodSpec };
  const created = await core.createNamespacedPod({ namespace: p.namespace, body });
  const now = new Date();
  const ready = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  created.status = {
    phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }], hostIP: '127.0.0.1', startTime: now,
    conditions: [ready('Initialized'), ready('Ready'), ready('ContainersReady'), ready('PodScheduled')],
  };
  await core.replaceNamespacedPodStatus({ name: p.name, namespace: p.namespace, body: created });
}

/** The pod IPs the EndpointSlice controller must publish before the control planes start. */
function expectedIps(mesh: Mesh): Set<string> {
  const ips = new Set<string>();
  for (const o of mesh.objects) {
    if (o.kind !== 'Service') continue;
    const md = o.metadata as { namespace: string };
    const selector = ((o.spec ?? {}) as { selector?: Record<string, string> }).selector;
    if (!selector) continue;
    for (const p of mesh.pods) {
      if (p.namespace === md.namespace && Object.entries(selector).every(([k, v]) => p.labels[k] === v)) ips.add(p.ip);
    }
  }
  return ips;
}

async function loadMesh(cluster: Cluster, mesh: Mesh, dir: string): Promise<void> {
  const core = cluster.kc.makeApiClient(CoreV1Api);
  for (const ns of mesh.namespaces) {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await waitForServiceAccount(core, ns);
  }
  const file = join(dir, 'mesh.yaml');
  writeFileSync(file, toYaml(mesh.objects));
  // Istio's CRD schemas refuse fields that istiod's xDS test configs still carry (http[].websocketUpgrade,
  // long removed from the API). --validate=false lets the API server prune them, as it would for any
  // client that does not ask for strict field validation; both control planes then read the same objects.
  const applied = kubectl(cluster.kubeconfig, 'apply', '--validate=false', '-f', file);
  if (applied.status !== 0) throw new Error(`kubectl apply of mesh ${mesh.name}: ${applied.out}`);
  for (const p of mesh.pods) await createPod(core, p);
  const want = expectedIps(mesh);
  const discovery = cluster.kc.makeApiClient(DiscoveryV1Api);
  await waitFor(`EndpointSlices of mesh ${mesh.name}`, async () => {
    const slices = await discovery.listEndpointSliceForAllNamespaces();
    const seen = new Set(slices.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses)));
    return [...want].every((ip) => seen.has(ip)) ? true : undefined;
  }, 60_000);
}

function record(report: XdsReport, where: string, results: TypeResult[], m: Dump, s: Dump): void {
  for (const side of [['meshd', m], ['istiod', s]] as const) {
    for (const e of side[1].errors) report.lines.push(`== ${where}: ${side[0]} error: ${e}`);
  }
  for (const r of results) {
    for (const n of r.onlyMeshd) report.lines.push(`== ${where} ${r.type} ${n}: only meshd sent it`);
    for (const n of r.onlyIstiod) report.lines.push(`== ${where} ${r.type} ${n}: only istiod sent it`);
    for (const [n, err] of Object.entries(r.invalidMeshd)) report.lines.push(`== ${where} ${r.type} ${n}: meshd's fails Envoy's validation: ${err}`);
    for (const [n, err] of Object.entries(r.invalidIstiod)) report.lines.push(`== ${where} ${r.type} ${n}: istiod's fails Envoy's validation: ${err}`);
    for (const [n, diffs] of r.diffs) {
      report.lines.push(`== ${where} ${r.type} ${n}`, ...diffs.map((d) => `  ${d}`));
      for (const c of new Set(diffs.map((d) => xdsDiffClass(r.type, d)))) report.classes.set(c, (report.classes.get(c) ?? 0) + 1);
    }
    for (const n of [...r.onlyMeshd, ...r.onlyIstiod]) {
      const c = `${r.type} sent by one side only (${r.onlyMeshd.includes(n) ? 'meshd' : 'istiod'})`;
      report.classes.set(c, (report.classes.get(c) ?? 0) + 1);
    }
  }
}

function add(t: Tally, r: TypeResult): void {
  t.total += r.total;
  t.identical += r.identical;
  t.onlyMeshd += r.onlyMeshd.length;
  t.onlyIstiod += r.onlyIstiod.length;
  t.invalidMeshd += Object.keys(r.invalidMeshd).length;
  t.invalidIstiod += Object.keys(r.invalidIstiod).length;
  t.fields += r.fields.total;
  t.fieldsEqual += r.fields.equal;
}

async function runMesh(mesh: Mesh, peers: string, xdsdump: string, report: XdsReport, byType: Map<string, Tally>, byProxy: Map<string, Tally>): Promise<void> {
  const cluster = await startCluster();
  const dir = scratchDir('meshd-xds-');
  let closers: Array<() => Promise<void>> = [];
  try {
    await configure(cluster);
    await loadMesh(cluster, mesh, dir);
    const istiod = await startIstiod(join(peers, 'pilot-discovery'), cluster.kubeconfig);
    closers.push(istiod.close);
    const meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], { ENABLE_LEADER_ELECTION: 'false', POD_NAMESPACE: NS });
    closers.push(meshd.close);
    await istiod.ready();
    const proxyConfig = meshDefaultProxyConfig();
    for (const proxy of mesh.proxies) {
      const nodeFile = join(dir, 'node.json');
      writeFileSync(nodeFile, JSON.stringify(proxyNode(proxy, proxyConfig)));
      const m = dump(xdsdump, meshd.xdsPort, proxy, nodeFile);
      const s = dump(xdsdump, istiod.grpcPort, proxy, nodeFile);
      const results = compareDumps(m, s);
      record(report, `${mesh.name} / ${proxy.name}`, results, m, s);
      for (const r of results) {
        add(byType.get(r.type) ?? byType.set(r.type, zero()).get(r.type)!, r);
        add(byProxy.get(proxy.kind) ?? byProxy.set(proxy.kind, zero()).get(proxy.kind)!, r);
      }
      const got = results.map((r) => `${r.type} ${r.identical}/${r.total}`).join(', ');
      console.log(`  xds ${mesh.name} / ${proxy.name}: ${got}${m.errors.length + s.errors.length ? ' (errors: see report)' : ''}`);
    }
  } finally {
    for (const close of closers.reverse()) await close();
    closers = [];
    await cluster.stop();
  }
}

/** Runs every mesh and returns the part's score lines (headline per type, then details). */
export async function xdsPart(peers: string, xdsdump: string, report: XdsReport): Promise<string[]> {
  const byType = new Map<string, Tally>();
  const byProxy = new Map<string, Tally>();
  const meshes = MESHES.map((make) => make());
  for (const mesh of meshes) await runMesh(mesh, peers, xdsdump, report, byType, byProxy);
  const all = [...byType.values()].reduce((a, t) => {
    for (const k of Object.keys(a) as Array<keyof Tally>) a[k] += t[k];
    return a;
  }, zero());
  const proxies = meshes.reduce((n, m) => n + m.proxies.length, 0);
  const detail = (t: Tally): string =>
    `${t.onlyIstiod} only from istiod, ${t.onlyMeshd} only from meshd; fail Envoy's validation: meshd ${t.invalidMeshd}, ` +
    `istiod ${t.invalidIstiod}; ${t.fieldsEqual}/${t.fields} leaf fields equal where both sent it`;
  return [
    ...[...byType].map(([type, t]) => `${t.identical}/${t.total} ${type} resources identical to istiod (${detail(t)})`),
    `  all types: ${all.identical}/${all.total} identical over ${meshes.length} meshes and ${proxies} proxies (${meshes.map((m) => m.name).join('; ')})`,
    ...[...byProxy].map(([kind, t]) => `  ${kind}: ${t.identical}/${t.total} identical (${detail(t)})`),
  ];
}
