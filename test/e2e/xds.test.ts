// xDS in cluster mode, through a real kube-apiserver: meshd reads a Service, EndpointSlices (v1 on v1.36,
// v1beta1 on v1.20, which has no v1) pointing at real gRPC backends on a pod address run.sh puts on the
// loopback device (v1 refuses 127.0.0.0/8), the Pods they reference, and Istio DestinationRule and
// VirtualService objects; a real @grpc/grpc-js-xds client follows every change.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import * as xds from '@grpc/grpc-js-xds';
import { TYPE } from '../../src/xds/protos.js';
import { AdsClient, decoded, node } from '../helpers/ads-client.js';
import { spread, startBackend, xdsClient, type Backend, type Echo } from '../helpers/echo.js';
import { bearer, ISTIOD_NAME, meshCredentials } from '../helpers/mesh-certs.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { podIp, startCluster, type Cluster } from './cluster.js';
import { installIstioCrds } from './kube-tools.js';

xds.register();

const NS = 'apps';
let cluster: Cluster;
let meshd: MeshdProcess;
let custom: CustomObjectsApi;
let core: CoreV1Api;
let backends: Backend[] = [];
let client: Echo | undefined;
/** discovery.k8s.io/v1 is served from v1.21; v1beta1 is gone from v1.25. */
let sliceVersion: string;

const istio = (plural: string) => ({ group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural });

function slice(name: string, pod: string, port: number): object {
  return {
    apiVersion: `discovery.k8s.io/${sliceVersion}`,
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    ports: [{ name: 'grpc', port, protocol: 'TCP' }],
    endpoints: [{ addresses: [podIp()], conditions: { ready: true }, targetRef: { kind: 'Pod', name: pod, namespace: NS } }],
  };
}

function virtualService(subset: string): object {
  return { apiVersion: 'networking.istio.io/v1beta1', kind: 'VirtualService', metadata: { name: 'echo', namespace: NS }, spec: { hosts: ['echo'], http: [{ route: [{ destination: { host: 'echo', subset } }] }] } };
}

async function until(what: string, pred: (c: Record<string, number>) => boolean): Promise<void> {
  let last: Record<string, number> = {};
  await waitFor(what, async () => {
    last = await spread(client!, 20);
    return pred(last) ? true : undefined;
  }, 30_000, () => `last: ${JSON.stringify(last)}\n${meshd.logs().slice(-4000)}`);
}

before(async () => {
  cluster = await startCluster();
  sliceVersion = cluster.minor >= 21 ? 'v1' : 'v1beta1';
  core = cluster.kc.makeApiClient(CoreV1Api);
  custom = cluster.kc.makeApiClient(CustomObjectsApi);
  installIstioCrds(cluster.kubeconfig);
  for (const name of ['istio-system', NS]) await core.createNamespace({ body: { metadata: { name } } });
  const host = podIp();
  backends = await Promise.all([startBackend('v1', 0, undefined, undefined, host), startBackend('v2', 0, undefined, undefined, host)]);
  meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], { ENABLE_LEADER_ELECTION: 'false' });
});

after(async () => {
  client?.close();
  await meshd?.close();
  for (const b of backends) b.server.forceShutdown();
  await cluster?.stop();
});

describe('xDS from the Kubernetes API', () => {
  it('serves a Service, its EndpointSlices and Istio routing to a proxyless client, and follows changes', async () => {
    // No selector: the controller manager leaves the hand-written slices alone.
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'echo' }, spec: { ports: [{ name: 'grpc', port: 7070, targetPort: 7070 }] } } });
    for (const [i, b] of backends.entries()) {
      await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: `echo-${b.version}`, labels: { app: 'echo', version: b.version } }, spec: { serviceAccountName: 'default', containers: [{ name: 'app', image: 'echo' }] } } });
      await custom.createNamespacedCustomObject({ group: 'discovery.k8s.io', version: sliceVersion, namespace: NS, plural: 'endpointslices', body: slice(`echo-${i}`, `echo-${b.version}`, b.port) });
    }
    await custom.createNamespacedCustomObject({ ...istio('destinationrules'), body: { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name: 'echo', namespace: NS }, spec: { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } } });
    await custom.createNamespacedCustomObject({ ...istio('virtualservices'), body: virtualService('v2') });
    assert.ok(meshd.logs().includes(`"endpointSlices":"discovery.k8s.io/${sliceVersion}"`), 'meshd watches the served version');

    client = xdsClient(`echo.${NS}.svc.cluster.local:7070`, meshd.xdsPort, `sidecar~127.0.0.1~client.${NS}~${NS}.svc.cluster.local`);
    await until('the VirtualService routes to subset v2', (c) => c.v2 === 20);

    const vs = (await custom.getNamespacedCustomObject({ ...istio('virtualservices'), name: 'echo' })) as { metadata: { resourceVersion: string } };
    await custom.replaceNamespacedCustomObject({ ...istio('virtualservices'), name: 'echo', body: { ...virtualService('v1'), metadata: { name: 'echo', namespace: NS, resourceVersion: vs.metadata.resourceVersion } } });
    await until('an edited VirtualService moves traffic to v1', (c) => c.v1 === 20);

    await custom.deleteNamespacedCustomObject({ ...istio('virtualservices'), name: 'echo' });
    await until('without a VirtualService both endpoints share the traffic', (c) => (c.v1 ?? 0) > 0 && (c.v2 ?? 0) > 0 && (c.v1 ?? 0) + (c.v2 ?? 0) === 20);

    await custom.deleteNamespacedCustomObject({ group: 'discovery.k8s.io', version: sliceVersion, namespace: NS, plural: 'endpointslices', name: 'echo-0' });
    await until('a deleted EndpointSlice takes its endpoint out', (c) => c.v2 === 20);
  });

  it('serves SDS only to an authenticated gateway whose service account may list its namespace’s Secrets, and only Secrets config names', async () => {
    const b64 = (x: string): string => Buffer.from(x).toString('base64');
    const rbac = cluster.kc.makeApiClient(RbacAuthorizationV1Api);
    for (const name of ['gw', 'web']) await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name } } });
    await rbac.createNamespacedRole({ namespace: NS, body: { metadata: { name: 'read-secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }] } });
    await rbac.createNamespacedRoleBinding({ namespace: NS, body: { metadata: { name: 'gw-read-secrets' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-secrets' }, subjects: [{ kind: 'ServiceAccount', name: 'gw', namespace: NS }] } });
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'www-cred' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT-1'), 'tls.key': b64('KEY-1') } } });
    const token = async (sa: string): Promise<string> => (await core.createNamespacedServiceAccountToken({ namespace: NS, name: sa, body: { spec: { audiences: ['istio-ca'], expirationSeconds: 3600 } } })).status!.token;
    const roots = readFileSync(meshd.caFile, 'utf8');
    const secureAds = async (sa: string): Promise<AdsClient> => new AdsClient(`127.0.0.1:${meshd.xdsTlsPort}`, grpc.credentials.combineChannelCredentials(meshCredentials(roots), bearer(await token(sa))), ISTIOD_NAME);
    const router = (sa: string): object => node(`router~127.0.0.1~${sa}.${NS}~${NS}.svc.cluster.local`, { NAMESPACE: NS, SERVICE_ACCOUNT: sa });
    const cert = (x: Record<string, any>): string => Buffer.from(x.tls_certificate.certificate_chain.inline_bytes).toString();
    const gatewayBody = { apiVersion: 'networking.istio.io/v1beta1', kind: 'Gateway', metadata: { name: 'www', namespace: NS }, spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['www.example.com'], tls: { mode: 'SIMPLE', credentialName: 'www-cred' } }] } };

    const gw = await secureAds('gw');
    const web = await secureAds('web');
    const plain = new AdsClient(`127.0.0.1:${meshd.xdsPort}`);
    const s = gw.sotw();
    try {
      s.send({ node: router('gw'), type_url: TYPE.secret, resource_names: ['kubernetes://www-cred'] });
      assert.equal(await s.next(3_000), undefined, 'no Gateway names www-cred yet: meshd does not hold it');
      assert.equal(s.error, undefined, `the projected token authenticates the stream on 15012: ${s.error?.message}`);
      await custom.createNamespacedCustomObject({ ...istio('gateways'), body: gatewayBody });
      let r = await s.mustNext(10_000);
      assert.equal(cert(decoded(r)[0]!), 'CERT-1', 'a new reference reads the Secret and pushes it');
      s.send({ type_url: TYPE.secret, version_info: r.version_info, response_nonce: r.nonce, resource_names: ['kubernetes://www-cred'] });
      await core.replaceNamespacedSecret({ namespace: NS, name: 'www-cred', body: { metadata: { name: 'www-cred' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT-2'), 'tls.key': b64('KEY-2') } } });
      r = await s.mustNext(10_000);
      assert.equal(cert(decoded(r)[0]!), 'CERT-2');

      // Without RBAC to list Secrets, or on the plain-text port (no identity), nothing.
      for (const [client, sa] of [[web, 'web'], [plain, 'gw']] as const) {
        const o = client.sotw();
        o.send({ node: router(sa), type_url: TYPE.secret, resource_names: ['kubernetes://www-cred'] });
        assert.deepEqual((await o.next(3_000))?.resources ?? [], [], sa);
        o.close();
      }
      assert.match(meshd.logs(), /attempted to access unauthorized certificates kubernetes:\/\/www-cred/);
      // Claiming another service account than the token's is refused.
      const liar = web.sotw();
      liar.send({ node: router('gw'), type_url: TYPE.secret, resource_names: ['kubernetes://www-cred'] });
      assert.equal((await liar.failure())?.code, grpc.status.PERMISSION_DENIED);

      // The last reference gone, the Secret's data is dropped: a new stream gets nothing.
      await custom.deleteNamespacedCustomObject({ ...istio('gateways'), name: 'www' });
      await waitFor('the Secret to be dropped', async () => {
        const n = gw.sotw();
        n.send({ node: router('gw'), type_url: TYPE.secret, resource_names: ['kubernetes://www-cred'] });
        const got = await n.next(1_500);
        n.close();
        return got === undefined ? true : undefined;
      }, 20_000);
    } finally {
      s.close();
      gw.close();
      web.close();
      plain.close();
    }
  });
});
