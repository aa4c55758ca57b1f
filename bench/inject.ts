// Injection throughput: AdmissionReviews per second and p50/p99 latency through meshd's HTTPS webhook,
// beside a trivial Fastify HTTPS echo of the same bodies in the same run, over keep-alive connections on
// 127.0.0.1. Prints the meshd/echo ratio. Each server runs in its own process; the load runs here.
//
// With --peer istiod (run through bench/peer.sh) the comparison is real istiod instead of the echo: both
// read the same mesh and injector ConfigMaps from one API server and get the same bodies; each runs alone.
//
// Usage: tsx bench/inject.ts [--seconds 5] [--concurrency 16]
//        bash bench/peer.sh inject [--seconds 5] [--concurrency 16]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseYamlStream } from '../src/config/yaml.js';
import { HEADER, load, ratioRow, row, withServers, type Result } from './harness.js';
import { eachPlane, peerFlag, startPeerCluster } from './planes.js';

type Obj = Record<string, any>;

/** The hello pod of Istio's injection goldens when ../shared is here, else the same pod written out. */
function helloPod(): Obj {
  const file = join(import.meta.dirname, '..', '..', 'shared', 'istio', 'inject', 'inject', 'hello.yaml');
  if (existsSync(file)) {
    const dep = parseYamlStream(readFileSync(file, 'utf8'), 'hello.yaml')[0] as Obj;
    return { apiVersion: 'v1', kind: 'Pod', metadata: { ...dep.spec.template.metadata, generateName: 'hello-fake-', namespace: 'default' }, spec: dep.spec.template.spec };
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'hello-fake-', namespace: 'default', labels: { app: 'hello', tier: 'backend', track: 'stable' } },
    spec: { containers: [{ name: 'hello', image: 'fake.docker.io/google-samples/hello-go-gke:1.0', ports: [{ name: 'http', containerPort: 80 }] }] },
  };
}

function bigPod(n: number): Obj {
  const containers = Array.from({ length: n }, (_, i) => ({
    name: `c${i}`,
    image: `registry.example/app-${i}:1.0`,
    ports: [{ name: `http-${i}`, containerPort: 8000 + i }],
    env: [{ name: 'INDEX', value: String(i) }],
    readinessProbe: { httpGet: { path: '/ready', port: 8000 + i } },
    resources: { requests: { cpu: '10m', memory: '16Mi' } },
  }));
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'big', namespace: 'default', labels: { app: 'big' } }, spec: { containers } };
}

function reviewBody(pod: Obj): Buffer {
  return Buffer.from(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'bench', namespace: 'default', operation: 'CREATE', object: pod } }));
}

/**
 * Request bodies for a run. "same": every request carries the same pod, as the pods of one ReplicaSet
 * do. "distinct": each pod differs (a unique label), so nothing rendered for one can serve another.
 */
function bodies(pod: Obj, mode: 'same' | 'distinct'): () => Buffer {
  if (mode === 'same') {
    const body = reviewBody(pod);
    return () => body;
  }
  let n = 0;
  const head = reviewBody({ ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'bench-seq': 'SEQ' } } }).toString('utf8');
  return () => Buffer.from(head.replace('"SEQ"', `"${n++}"`));
}

const PODS = [['hello', helloPod()], ['100-container', bigPod(100)]] as const;
const MODES = ['same', 'distinct'] as const;
const injected = (status: number, text: string): boolean => status === 200 && (JSON.parse(text) as Obj).response?.patchType === 'JSONPatch';

/** meshd beside the echo, in one process each (no cluster). */
async function versusEcho(seconds: number, concurrency: number): Promise<void> {
  const echoed = (status: number): boolean => status === 200;
  const ratios: string[] = [];
  await withServers(async (meshd, echo) => {
    for (const [name, pod] of PODS) {
      for (const mode of MODES) {
        const label = `${name}/${mode}`;
        const m = await load(meshd.port, '/inject', meshd.ca, bodies(pod, mode), seconds, concurrency, injected);
        const e = await load(echo.port, '/inject', echo.ca, bodies(pod, mode), seconds, concurrency, echoed);
        console.log(row(label, 'meshd', m));
        console.log(row(label, 'echo', e));
        ratios.push(`${label}: meshd/echo throughput ratio ${(m.rps / e.rps).toFixed(2)} (target >= 0.35)`);
      }
    }
  });
  for (const r of ratios) console.log(r);
}

/** meshd beside real istiod on one API server; the ratio rows are meshd/istiod. */
async function versusIstiod(seconds: number, concurrency: number): Promise<void> {
  const cluster = await startPeerCluster();
  try {
    // Neither certificate is checked: istiod's is signed by its own CA for its service names.
    const results = await eachPlane(cluster, async (plane) => {
      const out = new Map<string, Result>();
      for (const [name, pod] of PODS) {
        for (const mode of MODES) out.set(`${name}/${mode}`, await load(plane.webhookPort, '/inject', undefined, bodies(pod, mode), seconds, concurrency, injected));
      }
      return out;
    });
    for (const [label, m] of results.meshd) {
      const i = results.istiod.get(label)!;
      console.log(row(label, 'meshd', m));
      console.log(row(label, 'istiod', i));
      console.log(ratioRow(label, m, i));
    }
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, concurrency: { type: 'string' }, peer: { type: 'string' } } });
  const seconds = Number(values.seconds ?? 5);
  const concurrency = Number(values.concurrency ?? 16);
  const peer = peerFlag(values.peer);
  const against = peer ? ', meshd (cluster mode) and istiod on one API server, each alone' : '';
  console.log(`bench/inject: ${seconds}s per run, ${concurrency} concurrent keep-alive HTTPS connections, 127.0.0.1${against}`);
  console.log(HEADER);
  if (peer) await versusIstiod(seconds, concurrency);
  else await versusEcho(seconds, concurrency);
}

await main();
