// Validation throughput: AdmissionReviews per second and p50/p99 through meshd's HTTPS /validate, beside
// a trivial Fastify HTTPS echo of the same bodies in the same run; prints the meshd/echo ratio.
//
// Usage: tsx bench/validate.ts [--seconds 5] [--concurrency 16]
import { parseArgs } from 'node:util';
import { HEADER, load, row, withServers } from './harness.js';

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

const { values } = parseArgs({ options: { seconds: { type: 'string' }, concurrency: { type: 'string' } } });
const seconds = Number(values.seconds ?? 5);
const concurrency = Number(values.concurrency ?? 16);
const body = Buffer.from(
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'bench', kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, resource: { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' }, namespace: 'bookinfo', operation: 'CREATE', object: virtualService },
  }),
);
console.log(`bench/validate: ${seconds}s per run, ${concurrency} concurrent keep-alive HTTPS connections, 127.0.0.1`);
console.log(HEADER);
await withServers(async (meshd, echo) => {
  const m = await load(meshd.port, '/validate', meshd.ca, () => body, seconds, concurrency, (status, text) => status === 200 && (JSON.parse(text) as { response?: { allowed?: boolean } }).response?.allowed === true);
  const e = await load(echo.port, '/validate', echo.ca, () => body, seconds, concurrency, (status) => status === 200);
  console.log(row('virtualservice', 'meshd', m));
  console.log(row('virtualservice', 'echo', e));
  console.log(`virtualservice: meshd/echo throughput ratio ${(m.rps / e.rps).toFixed(2)} (target >= 0.5)`);
});
