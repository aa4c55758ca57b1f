// Validation throughput: AdmissionReviews per second and p50/p99 through meshd's HTTPS /validate, beside
// a trivial Fastify HTTPS echo of the same bodies in the same run; prints the meshd/echo ratio.
//
// With --peer istiod (run through bench/peer.sh) the comparison is real istiod's /validate instead of the
// echo, meshd in cluster mode, both on one API server, each running alone.
//
// Usage: tsx bench/validate.ts [--seconds 5] [--concurrency 16]
//        bash bench/peer.sh validate [--seconds 5] [--concurrency 16]
import { parseArgs } from 'node:util';
import { HEADER, load, ratioRow, row, withServers } from './harness.js';
import { eachPlane, peerFlag, startPeerCluster } from './planes.js';

/** A realistic VirtualService: header match, weighted split, retries, fault, timeout. */
const virtualService = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'reviews', namespace: 'bookinfo' },
  spec: {
    hosts: ['reviews.bookinfo.svc.cluster.local'],
    http: [
      { match: [{ headers: { 'end-user': { exact: 'jason' } }, uri: { prefix: '/reviews' } }], route: [{ destination: { host: 'reviews', subset: 'v2' } }], retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,reset' } },
      { route: [{ destination: { host: 'reviews', subset: 'v1' }, weight: 90 }, { destination: { host: 'reviews', subset: 'v3' }, weight: 10 }], timeout: '10s', fault: { delay: { percentage: { value: 0.1 }, fixedDelay: '5s' } } },
    ],
  },
};

const { values } = parseArgs({ options: { seconds: { type: 'string' }, concurrency: { type: 'string' }, peer: { type: 'string' } } });
const seconds = Number(values.seconds ?? 5);
const concurrency = Number(values.concurrency ?? 16);
const body = Buffer.from(
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'bench', kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, resource: { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' }, namespace: 'bookinfo', operation: 'CREATE', object: virtualService },
  }),
);
const allowed = (status: number, text: string): boolean => status === 200 && (JSON.parse(text) as { response?: { allowed?: boolean } }).response?.allowed === true;
const peer = peerFlag(values.peer);
console.log(`bench/validate: ${seconds}s per run, ${concurrency} concurrent keep-alive HTTPS connections, 127.0.0.1${peer ? ', meshd (cluster mode) and istiod on one API server, each alone' : ''}`);
console.log(HEADER);
if (peer) {
  const cluster = await startPeerCluster();
  try {
    // istiod's certificate is signed by its own CA for its service names: neither is checked.
    const r = await eachPlane(cluster, (plane) => load(plane.webhookPort, '/validate', undefined, () => body, seconds, concurrency, allowed));
    console.log(row('virtualservice', 'meshd', r.meshd));
    console.log(row('virtualservice', 'istiod', r.istiod));
    console.log(ratioRow('virtualservice', r.meshd, r.istiod));
  } finally {
    await cluster.stop();
  }
} else {
  await withServers(async (meshd, echo) => {
    const m = await load(meshd.port, '/validate', meshd.ca, () => body, seconds, concurrency, allowed);
    const e = await load(echo.port, '/validate', echo.ca, () => body, seconds, concurrency, (status) => status === 200);
    console.log(row('virtualservice', 'meshd', m));
    console.log(row('virtualservice', 'echo', e));
    console.log(`virtualservice: meshd/echo throughput ratio ${(m.rps / e.rps).toFixed(2)} (target >= 0.5)`);
  });
}
