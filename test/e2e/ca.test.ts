// The workload CA through a real kube-apiserver: istio-agent's call with a real projected service-account
// token (audience istio-ca), authenticated by TokenReview, signed by meshd's CA root, verified here with
// node:crypto; and the refusals for missing, foreign-audience and garbage tokens, other identities and
// over-long TTLs.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import { CertificateService } from '../../src/ca/certificate-service.js';
import { caRootFromSecret } from '../../src/ca/root.js';
import { CLOCK_SKEW_MS } from '../../src/ca/workload.js';
import { caClient } from '../helpers/ca-client.js';
import { makeCsr } from '../helpers/csr.js';
import { ISTIOD_NAME, meshCredentials } from '../helpers/mesh-certs.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { startCluster, type Cluster } from './cluster.js';
import { waitForServiceAccount } from './fixtures.js';

const NS = 'apps';
const ID = `spiffe://cluster.local/ns/${NS}/sa/echo`;
let cluster: Cluster;
let core: CoreV1Api;
let meshd: MeshdProcess;
let client: ReturnType<typeof caClient>;

async function token(audiences: string[], sa = 'echo'): Promise<string> {
  const r = await core.createNamespacedServiceAccountToken({ namespace: NS, name: sa, body: { spec: { audiences, expirationSeconds: 3600 } } });
  return r.status!.token;
}

before(async () => {
  cluster = await startCluster();
  core = cluster.kc.makeApiClient(CoreV1Api);
  for (const name of ['istio-system', NS]) await core.createNamespace({ body: { metadata: { name } } });
  await waitForServiceAccount(core, NS);
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'echo' } } });
  meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], { ENABLE_LEADER_ELECTION: 'false', MAX_WORKLOAD_CERT_TTL: '48h' });
  client = caClient(meshd.xdsTlsPort, readFileSync(meshd.caFile, 'utf8'));
});

after(async () => {
  client?.close();
  await meshd?.close();
  await cluster?.stop();
});

describe('the workload CA', () => {
  it('signs a CSR for the identity of a real service-account token, under the root in istio-ca-secret', async () => {
    const { csrPem } = makeCsr([ID]);
    const r = await client.create(csrPem, 3600, await token(['istio-ca']));
    assert.equal(r.code, undefined, r.details);
    const certs = r.chain!.map((c) => new X509Certificate(c));
    assert.equal(certs.length, 2, 'leaf and the self-signed root');
    const [leaf, root] = certs as [X509Certificate, X509Certificate];
    assert.ok(leaf.verify(root.publicKey), 'the leaf verifies with the returned root');
    assert.ok(root.verify(root.publicKey), 'the root is self-signed');
    assert.equal(leaf.subjectAltName, `URI:${ID}`);
    // istiod backdates NotBefore by two minutes for clock skew.
    assert.equal(new Date(leaf.validTo).getTime() - new Date(leaf.validFrom).getTime(), 3600_000 + CLOCK_SKEW_MS);
    const secret = await core.readNamespacedSecret({ namespace: 'istio-system', name: 'istio-ca-secret' });
    const stored = caRootFromSecret('istio-ca-secret', secret.data, new Date())!;
    assert.ok(root.raw.equals(new X509Certificate(stored.rootsPem).raw), 'the root meshd keeps in istio-ca-secret');
    const metrics = await (await fetch(`http://127.0.0.1:${meshd.monitoringPort}/metrics`)).text();
    assert.match(metrics, /^citadel_server_success_cert_issuance_count [1-9]/m);
  });

  it('renews for the identity of a still-valid certificate it signed, without a token', async () => {
    const { csrPem, keyPem } = makeCsr([ID]);
    const first = await client.create(csrPem, 3600, await token(['istio-ca']));
    assert.equal(first.code, undefined, first.details);
    const roots = readFileSync(meshd.caFile, 'utf8');
    const renewing = new CertificateService(`127.0.0.1:${meshd.xdsTlsPort}`, meshCredentials(roots, { certPem: first.chain![0]!, keyPem }), ISTIOD_NAME) as unknown as grpc.Client & {
      CreateCertificate(req: object, cb: (err: grpc.ServiceError | null, res?: { cert_chain: string[] }) => void): void;
    };
    const renewed = await new Promise<{ err: grpc.ServiceError | null; chain?: string[] }>((resolve) =>
      renewing.CreateCertificate({ csr: makeCsr([ID]).csrPem, validity_duration: 600 }, (err, res) => resolve({ err, chain: res?.cert_chain })));
    renewing.close();
    assert.equal(renewed.err, null, renewed.err?.message);
    assert.equal(new X509Certificate(renewed.chain![0]!).subjectAltName, `URI:${ID}`);
  });

  it('refuses requests without a valid token for istio-ca', async () => {
    const { csrPem } = makeCsr([ID]);
    for (const t of [undefined, 'not-a-jwt', await token(['https://kubernetes.default.svc.cluster.local'])]) {
      const r = await client.create(csrPem, 3600, t);
      assert.equal(r.code, grpc.status.UNAUTHENTICATED, `token ${t?.slice(0, 12)}: ${r.details}`);
      assert.equal(r.details, 'request authenticate failure');
    }
    const metrics = await (await fetch(`http://127.0.0.1:${meshd.monitoringPort}/metrics`)).text();
    assert.match(metrics, /^citadel_server_authentication_failure_count [3-9]/m);
  });

  it('refuses a CSR for another identity and a TTL above MAX_WORKLOAD_CERT_TTL', async () => {
    const t = await token(['istio-ca']);
    const other = await client.create(makeCsr([`spiffe://cluster.local/ns/${NS}/sa/admin`]).csrPem, 3600, t);
    assert.equal(other.code, grpc.status.INVALID_ARGUMENT);
    assert.match(other.details!, /sa\/admin/);
    const long = await client.create(makeCsr([ID]).csrPem, 72 * 3600, t);
    assert.equal(long.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(long.details, 'CSR signing error (requested TTL 72h0m0s is greater than the max allowed TTL 48h0m0s)');
    await waitFor('sign errors counted', async () => (/^citadel_server_csr_sign_error_count\{error_type="ttl_error"\} 1/m.test(await (await fetch(`http://127.0.0.1:${meshd.monitoringPort}/metrics`)).text()) ? true : undefined));
  });
});
