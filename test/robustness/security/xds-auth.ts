// Issue 12, items 1, 5 and the authentication parts of 6: the attack (a made-up `router` node id asking
// SDS for another namespace's TLS key on 15010 and on 15012 without credentials) gets nothing; the
// identity check, SDS authorization (same namespace, SubjectAccessReview), debug endpoint auth and the
// CA's authenticators answer as istiod's do.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { CertificateService, certificateServiceImplementation } from '../../../src/ca/certificate-service.js';
import { createCA, issueServingCertificate, type KeyPairPem, type ServingCertificate } from '../../../src/ca/self-signed.js';
import { kubeTokenAuthenticator } from '../../../src/ca/token-auth.js';
import { buildMonitoringApp } from '../../../src/server/monitoring-app.js';
import { clientCertAuthenticator, type Authenticator } from '../../../src/security/authenticate.js';
import { installSdsAuthorization, kubeSecretAccessReview } from '../../../src/security/secret-access.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { TYPE } from '../../../src/xds/protos.js';
import { startXdsServer, streamAuth } from '../../../src/xds/server.js';
import { AdsClient, decoded, node, type SotwResponse } from '../../helpers/ads-client.js';
import { caClient } from '../../helpers/ca-client.js';
import { makeCsr } from '../../helpers/csr.js';
import { startFakeKubeAuth, type FakeKubeAuth } from '../../helpers/fake-kube-auth.js';
import { bearer, ISTIOD_NAME, meshCredentials, workloadCert } from '../../helpers/mesh-certs.js';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { startTestXds, type TestXds } from '../../helpers/xds-server.js';
import { scratchDir } from '../../helpers/scratch.js';

const NS = 'shop';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const tlsSecret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'www-cred', namespace: NS }, data: { 'tls.crt': b64('CERT PEM'), 'tls.key': b64('PRIVATE KEY PEM') } };
const ROUTER = `router~1.2.3.4~x.${NS}~${NS}.svc.cluster.local`;
const CRED = 'kubernetes://www-cred';
const gwId = (ns = NS, sa = 'gw'): string => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;

const withToken = (creds: grpc.ChannelCredentials, token: string): grpc.ChannelCredentials => grpc.credentials.combineChannelCredentials(creds, bearer(token));

/** Asks SDS for the credential on a new stream: the response (undefined when none comes) and the stream's error. */
async function askSds(client: AdsClient, meta: Record<string, unknown>, id = ROUTER, waitMs = 1_500): Promise<{ r?: SotwResponse; code?: number }> {
  const s = client.sotw();
  s.send({ node: node(id, meta), type_url: TYPE.secret, resource_names: [CRED] });
  const r = await s.next(waitMs);
  s.close();
  return { r, code: s.error?.code };
}

const keyOf = (r: SotwResponse | undefined): string | undefined => {
  const x = r && decoded(r)[0];
  return x ? Buffer.from(x.tls_certificate.private_key.inline_bytes).toString() : undefined;
};

export function xdsAuthTests(): void {
  describe('xds-auth: the SDS attack on a running meshd (local mode)', () => {
    let meshd: MeshdProcess;
    before(async () => {
      const dir = scratchDir('meshd-sec-');
      writeFileSync(join(dir, 'objects.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [tlsSecret] }));
      meshd = await startMeshd(['--local-dir', dir, '--shutdown-delay', '0']);
    });
    after(async () => meshd?.close());

    test('a made-up router node id on 15010 gets no secret, SotW or Delta', async () => {
      const c = new AdsClient(`127.0.0.1:${meshd.xdsPort}`);
      try {
        const { r } = await askSds(c, { NAMESPACE: NS, SERVICE_ACCOUNT: 'gw' });
        assert.equal(keyOf(r), undefined, 'no key on the plain-text port');
        assert.deepEqual(r?.resources ?? [], []);
        const d = c.delta();
        d.send({ node: node(ROUTER, { NAMESPACE: NS }), type_url: TYPE.secret, resource_names_subscribe: [CRED] });
        const dr = await d.next(1_500);
        d.close();
        assert.deepEqual(dr?.resources ?? [], []);
      } finally {
        c.close();
      }
      assert.match(meshd.logs(), /not authorized to receive credentials/);
    });

    test('15012 without a client certificate or a reviewable token: UNAUTHENTICATED, nothing read', async () => {
      for (const creds of [meshCredentials(meshd.ca), withToken(meshCredentials(meshd.ca), 'a.b.c')]) {
        const c = new AdsClient(`127.0.0.1:${meshd.xdsTlsPort}`, creds, ISTIOD_NAME);
        const { r, code } = await askSds(c, { NAMESPACE: NS });
        c.close();
        assert.equal(r, undefined);
        assert.equal(code, grpc.status.UNAUTHENTICATED);
      }
    });

    test('debug views answer loopback callers; health and metrics stay open', async () => {
      for (const path of ['/debug/syncz', '/healthz', '/ready', '/metrics']) {
        assert.equal((await fetch(`http://127.0.0.1:${meshd.monitoringPort}${path}`)).status, 200, path);
      }
    });
  });

  describe('xds-auth: identity check and SDS authorization (in process)', () => {
    let ca: KeyPairPem;
    let serving: ServingCertificate;
    let fake: FakeKubeAuth;
    let local: TestXds;
    let cluster: TestXds;
    const logs: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void logs.push(l) });

    before(async () => {
      ca = await createCA('mesh CA');
      serving = await issueServingCertificate(ca, ca.certPem, ca.certPem, 'istio-system', 'default');
      fake = await startFakeKubeAuth();
      const certs = clientCertAuthenticator(() => ca.certPem);
      const opts = { xdsAuth: true, identityCheck: true };
      local = await startTestXds([tlsSecret], { plainPort: undefined, tlsPort: 0, tls: serving, secureAuth: streamAuth([certs], opts) });
      installSdsAuthorization(local.discovery, undefined, logger);
      const tokens = kubeTokenAuthenticator(fake.kc, ['istio-ca'], () => 'cluster.local');
      cluster = await startTestXds([tlsSecret], { plainPort: 0, tlsPort: 0, tls: serving, secureAuth: streamAuth([certs, tokens], opts) });
      installSdsAuthorization(cluster.discovery, kubeSecretAccessReview(fake.kc), logger);
    });
    after(async () => {
      await local?.close();
      await cluster?.close();
      await fake?.close();
    });

    const secure = (x: TestXds, creds: grpc.ChannelCredentials): AdsClient => new AdsClient(`127.0.0.1:${x.server.tlsPort}`, creds, ISTIOD_NAME);

    test('local mode: a mesh certificate of the Secret’s namespace gets the key; no SubjectAccessReview exists there', async () => {
      const c = secure(local, meshCredentials(serving.roots, workloadCert(ca, gwId())));
      try {
        assert.equal(keyOf((await askSds(c, { NAMESPACE: NS, SERVICE_ACCOUNT: 'gw' })).r), 'PRIVATE KEY PEM');
        // The same identity asking for another namespace's credential by name gets nothing.
        const s = c.sotw();
        s.send({ node: node(ROUTER, { NAMESPACE: NS }), type_url: TYPE.secret, resource_names: ['kubernetes://kube-system/www-cred'] });
        assert.equal(await s.next(1_000), undefined);
        s.close();
      } finally {
        c.close();
      }
    });

    test('a valid certificate for another namespace or service account: PERMISSION_DENIED (istiod’s authorize)', async () => {
      for (const [id, meta] of [[gwId('other'), { NAMESPACE: NS }], [gwId(NS, 'gw'), { NAMESPACE: NS, SERVICE_ACCOUNT: 'admin' }]] as const) {
        const c = secure(local, meshCredentials(serving.roots, workloadCert(ca, id)));
        const { r, code } = await askSds(c, meta);
        c.close();
        assert.equal(r, undefined, id);
        assert.equal(code, grpc.status.PERMISSION_DENIED, id);
      }
    });

    test('a certificate from another CA never authenticates', async () => {
      const other = await createCA('other CA');
      const c = secure(local, meshCredentials(serving.roots, workloadCert(other, gwId())));
      const { code } = await askSds(c, { NAMESPACE: NS });
      c.close();
      assert.notEqual(code, undefined, 'refused at the handshake or as unauthenticated');
    });

    test('cluster mode: a token whose service account may list secrets gets the key, one without RBAC gets none', async () => {
      fake.tokens.set('gw-token', { namespace: NS, serviceAccount: 'gw', audiences: ['istio-ca'] });
      fake.tokens.set('web-token', { namespace: NS, serviceAccount: 'web', audiences: ['istio-ca'] });
      fake.canListSecrets.add(`${NS}/gw`);
      const gw = secure(cluster, withToken(meshCredentials(serving.roots), 'gw-token'));
      const web = secure(cluster, withToken(meshCredentials(serving.roots), 'web-token'));
      try {
        // The first request waits for the review, then the answer is pushed.
        assert.equal(keyOf((await askSds(gw, { NAMESPACE: NS, SERVICE_ACCOUNT: 'gw' }, ROUTER, 5_000)).r), 'PRIVATE KEY PEM');
        assert.deepEqual(fake.accessReviews.at(-1), { user: `system:serviceaccount:${NS}:gw`, namespace: NS, verb: 'list', resource: 'secrets' });
        const reviews = fake.accessReviews.length;
        assert.equal(keyOf((await askSds(gw, { NAMESPACE: NS, SERVICE_ACCOUNT: 'gw' })).r), 'PRIVATE KEY PEM');
        assert.equal(fake.accessReviews.length, reviews, 'the grant is cached');
        assert.equal((await askSds(web, { NAMESPACE: NS, SERVICE_ACCOUNT: 'web' })).r, undefined);
        assert.ok(logs.some((l) => l.includes('attempted to access unauthorized certificates kubernetes://www-cred') && l.includes(ROUTER)), 'the denial is logged with the proxy');
        // The CA part is public: served without the review.
        const s = web.sotw();
        s.send({ node: node(ROUTER, { NAMESPACE: NS }), type_url: TYPE.secret, resource_names: [`${CRED}-cacert`] });
        assert.equal(await s.next(1_000), undefined, 'this Secret has no CA part');
        s.close();
        // And on the plain-text port of the same server: no identity, no key.
        const plain = new AdsClient(`127.0.0.1:${cluster.server.plainPort}`);
        assert.equal(keyOf((await askSds(plain, { NAMESPACE: NS, SERVICE_ACCOUNT: 'gw' })).r), undefined);
        plain.close();
      } finally {
        gw.close();
        web.close();
      }
    });

    test('XDS_AUTH=false authenticates nobody, so nothing secret is served even with a good certificate', async () => {
      const off = await startTestXds([tlsSecret], { plainPort: undefined, tlsPort: 0, tls: serving, secureAuth: streamAuth([clientCertAuthenticator(() => ca.certPem)], { xdsAuth: false, identityCheck: true }) });
      installSdsAuthorization(off.discovery, undefined, logger);
      const c = secure(off, meshCredentials(serving.roots, workloadCert(ca, gwId())));
      try {
        const { r, code } = await askSds(c, { NAMESPACE: NS, SERVICE_ACCOUNT: 'gw' });
        assert.equal(code, undefined, 'the stream is served');
        assert.equal(keyOf(r), undefined);
      } finally {
        c.close();
        await off.close();
      }
    });
  });

  describe('xds-auth: debug endpoints on 15014', () => {
    let fake: FakeKubeAuth;
    let xds: TestXds;
    let app: ReturnType<typeof buildMonitoringApp>;
    const proxies: AdsClient[] = [];

    before(async () => {
      fake = await startFakeKubeAuth();
      fake.tokens.set('shop-token', { namespace: NS, serviceAccount: 'web', audiences: ['istio-ca'] });
      fake.tokens.set('system-token', { namespace: 'istio-system', serviceAccount: 'istioctl', audiences: ['istio-ca'] });
      fake.tokens.set('ops-token', { namespace: 'ops', serviceAccount: 'x', audiences: ['istio-ca'] });
      xds = await startTestXds([]);
      for (const ns of [NS, 'other']) {
        const c = new AdsClient(`127.0.0.1:${xds.server.plainPort}`);
        const s = c.sotw();
        s.send({ node: node(`sidecar~10.0.0.1~p.${ns}~${ns}.svc.cluster.local`, { NAMESPACE: ns }), type_url: TYPE.cluster });
        await s.mustNext();
        proxies.push(c);
      }
      const tokens: Authenticator[] = [kubeTokenAuthenticator(fake.kc, ['istio-ca'], () => 'cluster.local', ['bearer', 'istio'])];
      app = buildMonitoringApp(createLogger('silent'), createMetrics(), { ready: true }, xds.discovery, { authenticators: tokens, namespaceRules: true, systemNamespace: () => 'istio-system', allowedNamespaces: new Set(['ops']) });
    });
    after(async () => {
      for (const c of proxies) c.close();
      await app?.close();
      await xds?.close();
      await fake?.close();
    });

    // light-my-request sets the socket's remote address: the only input meshd uses to tell loopback callers.
    const get = async (url: string, remoteAddress: string, token?: string): Promise<number> =>
      (await app.inject({ url, remoteAddress, headers: token ? { authorization: `Bearer ${token}` } : {} })).statusCode;

    test('a non-loopback caller needs a token (401); loopback, IPv4-mapped included, does not', async () => {
      for (const url of ['/debug/syncz', `/debug/config_dump?proxyID=p.${NS}`]) {
        assert.equal(await get(url, '10.1.2.3'), 401, url);
        assert.equal(await get(url, '10.1.2.3', 'forged'), 401, url);
        assert.equal(await get(url, '::ffff:10.1.2.3'), 401, url);
        assert.equal(await get(url, '127.0.0.1'), 200, url);
        assert.equal(await get(url, '::ffff:127.0.0.1'), 200, url);
        assert.equal(await get(url, '::1'), 200, url);
      }
      for (const url of ['/healthz', '/ready', '/metrics']) assert.equal(await get(url, '10.1.2.3'), 200, url);
    });

    test('a percent-encoded path reaches the debug routes only through the same check', async () => {
      for (const url of ['/%64ebug/syncz', '/d%65bug/syncz', `/%64ebug/config_dump?proxyID=p.${NS}`, '/debug/%73yncz']) {
        assert.equal(await get(url, '10.1.2.3'), 401, url);
        assert.equal(await get(url, '127.0.0.1'), 200, url);
      }
      assert.equal(await get('/%64ebug/syncz', '10.1.2.3', 'shop-token'), 403);
    });

    test('a caller of another namespace gets only config_dump, and only for its own namespace’s proxies', async () => {
      assert.equal(await get('/debug/syncz', '10.1.2.3', 'shop-token'), 403);
      assert.equal(await get(`/debug/config_dump?proxyID=p.${NS}`, '10.1.2.3', 'shop-token'), 200);
      assert.equal(await get('/debug/config_dump?proxyID=p.other', '10.1.2.3', 'shop-token'), 404);
      assert.equal(await get('/debug/config_dump?proxyID=p.other', '10.1.2.3', 'system-token'), 200);
      assert.equal(await get('/debug/config_dump?proxyID=p.other', '10.1.2.3', 'ops-token'), 200, 'DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES');
      const rows = (await app.inject({ url: '/debug/syncz', remoteAddress: '10.1.2.3', headers: { authorization: 'Istio system-token' } })).json() as Array<{ proxy: string }>;
      assert.equal(rows.length, 2);
    });
  });

  describe('xds-auth: the CA’s authenticators', () => {
    let fake: FakeKubeAuth;
    let ca: KeyPairPem;
    let other: KeyPairPem;
    let server: Awaited<ReturnType<typeof startXdsServer>>;
    let roots: string;

    before(async () => {
      fake = await startFakeKubeAuth();
      ca = await createCA('mesh CA');
      other = await createCA('a CA the TLS layer also trusts');
      const serving = await issueServingCertificate(ca, ca.certPem, ca.certPem, 'istio-system', 'default');
      roots = serving.roots;
      const logger = createLogger('silent');
      const metrics = createMetrics();
      const discovery = new (await import('../../../src/xds/ads.js')).DiscoveryServer(logger, metrics.xds);
      const authenticators = [clientCertAuthenticator(() => ca.certPem), kubeTokenAuthenticator(fake.kc, ['istio-ca'], () => 'cluster.local')];
      const implementation = certificateServiceImplementation({ authenticators, ca: () => ({ signer: ca, chainPem: ca.certPem, rootsPem: ca.certPem }), policy: { defaultTtlSeconds: 3600, maxTtlSeconds: 7200 }, metrics: metrics.ca, logger });
      // The TLS layer trusting more than meshd's CA (e.g. an operator's bundle) must not widen who authenticates.
      server = await startXdsServer(discovery, { address: '127.0.0.1', tlsPort: 0, tls: { ...serving, roots: `${ca.certPem}\n${other.certPem}` }, secureServices: [{ definition: CertificateService.service, implementation }] }, logger);
    });
    after(async () => {
      await server?.stop();
      await fake?.close();
    });

    test('a legacy token is reviewed with the audiences and refused without istio-ca', async () => {
      fake.tokens.set('legacy', { namespace: NS, serviceAccount: 'gw', audiences: 'legacy' });
      const c = caClient(server.tlsPort!, roots);
      try {
        const r = await c.create(makeCsr([gwId()]).csrPem, 3600, 'legacy');
        assert.equal(r.code, grpc.status.UNAUTHENTICATED);
        assert.equal(r.details, 'request authenticate failure');
        assert.deepEqual(fake.tokenReviews.at(-1)?.audiences, ['istio-ca']);
      } finally {
        c.close();
      }
    });

    test('a still-valid mesh certificate renews its own identity without a token; another CA’s does not', async () => {
      const call = async (cert: KeyPairPem, sans: string[]): Promise<{ code?: number; chain?: string[] }> => {
        const client = new CertificateService(`127.0.0.1:${server.tlsPort}`, meshCredentials(roots, cert), ISTIOD_NAME) as unknown as grpc.Client & {
          CreateCertificate(req: object, cb: (err: grpc.ServiceError | null, res?: { cert_chain: string[] }) => void): void;
        };
        return new Promise((resolve) => client.CreateCertificate({ csr: makeCsr(sans).csrPem, validity_duration: 600 }, (err, res) => {
          client.close();
          resolve(err ? { code: err.code } : { chain: res!.cert_chain });
        }));
      };
      const renewed = await call(workloadCert(ca, gwId()), [gwId()]);
      assert.equal(renewed.code, undefined);
      assert.match(new (await import('node:crypto')).X509Certificate(renewed.chain![0]!).subjectAltName ?? '', new RegExp(`URI:${gwId()}`));
      assert.equal((await call(workloadCert(ca, gwId()), [gwId('kube-system', 'admin')])).code, grpc.status.INVALID_ARGUMENT, 'only its own identity');
      assert.equal((await call(workloadCert(other, gwId()), [gwId()])).code, grpc.status.UNAUTHENTICATED);
    });
  });
}
