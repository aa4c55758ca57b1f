// xDS in cluster mode, through a real kube-apiserver: meshd reads a Service, EndpointSlices (v1beta1 on
// this 1.20 API server) pointing at real gRPC backends on 127.0.0.1, the Pods they reference, and Istio
// DestinationRule/VirtualService objects; a real @grpc/grpc-js-xds client follows every change.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import * as xds from '@grpc/grpc-js-xds';
import { TYPE } from '../../src/xds/protos.js';
import { AdsClient, decoded, node } from '../helpers/ads-client.js';
import { spread, startBackend, xdsClient, type Backend, type Echo } from '../helpers/echo.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { startCluster, type Cluster } from './cluster.js';
import { installIstioCrds } from './kube-tools.js';

xds.register();

const NS = 'apps';
let cluster: Cluster;
let meshd: MeshdProcess;
let custom: CustomObjectsApi;
let core: CoreV1Api;
let backends: Backend[] = [];
let client: Echo | undefined;

const istio = (plural: string) => ({ group: 'networking.istio.io', version: 'v1beta1', namespace: NS, plural });

function slice(name: string, pod: string, port: number): object {
  return {
    apiVersion: 'discovery.k8s.io/v1beta1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': 'echo' } },
    addressType: 'IPv4',
    ports: [{ name: 'grpc', port, protocol: 'TCP' }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: pod, namespace: NS } }],
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
  core = cluster.kc.makeApiClient(CoreV1Api);
  custom = cluster.kc.makeApiClient(CustomObjectsApi);
  installIstioCrds(cluster.kubeconfig);
  for (const name of ['istio-system', NS]) await core.createNamespace({ body: { metadata: { name } } });
  backends = await Promise.all([startBackend('v1'), startBackend('v2')]);
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
      await custom.createNamespacedCustomObject({ group: 'discovery.k8s.io', version: 'v1beta1', namespace: NS, plural: 'endpointslices', body: slice(`echo-${i}`, `echo-${b.version}`, b.port) });
    }
    await custom.createNamespacedCustomObject({ ...istio('destinationrules'), body: { apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name: 'echo', namespace: NS }, spec: { host: 'echo', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] } } });
    await custom.createNamespacedCustomObject({ ...istio('virtualservices'), body: virtualService('v2') });
    assert.match(meshd.logs(), /"endpointSlices":"discovery.k8s.io\/v1beta1"/);

    client = xdsClient(`echo.${NS}.svc.cluster.local:7070`, meshd.xdsPort, `sidecar~127.0.0.1~client.${NS}~${NS}.svc.cluster.local`);
    await until('the VirtualService routes to subset v2', (c) => c.v2 === 20);

    const vs = (await custom.getNamespacedCustomObject({ ...istio('virtualservices'), name: 'echo' })) as { metadata: { resourceVersion: string } };
    await custom.replaceNamespacedCustomObject({ ...istio('virtualservices'), name: 'echo', body: { ...virtualService('v1'), metadata: { name: 'echo', namespace: NS, resourceVersion: vs.metadata.resourceVersion } } });
    await until('an edited VirtualService moves traffic to v1', (c) => c.v1 === 20);

    await custom.deleteNamespacedCustomObject({ ...istio('virtualservices'), name: 'echo' });
    await until('without a VirtualService both endpoints share the traffic', (c) => (c.v1 ?? 0) > 0 && (c.v2 ?? 0) > 0 && (c.v1 ?? 0) + (c.v2 ?? 0) === 20);

    await custom.deleteNamespacedCustomObject({ group: 'discovery.k8s.io', version: 'v1beta1', namespace: NS, plural: 'endpointslices', name: 'echo-0' });
    await until('a deleted EndpointSlice takes its endpoint out', (c) => c.v2 === 20);
  });

  it('serves a gateway the TLS Secret of its namespace over SDS, and follows a rotation', async () => {
    const b64 = (x: string): string => Buffer.from(x).toString('base64');
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'www-cred' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT-1'), 'tls.key': b64('KEY-1') } } });
    const ads = new AdsClient(`127.0.0.1:${meshd.xdsPort}`);
    const s = ads.sotw();
    try {
      s.send({ node: node(`router~127.0.0.1~gw.${NS}~${NS}.svc.cluster.local`, { NAMESPACE: NS }), type_url: TYPE.secret, resource_names: ['kubernetes://www-cred'] });
      let r = await waitFor('the Secret over SDS', async () => s.next(1_000));
      const cert = (x: Record<string, any>): string => Buffer.from(x.tls_certificate.certificate_chain.inline_bytes).toString();
      assert.equal(cert(decoded(r)[0]!), 'CERT-1');
      s.send({ type_url: TYPE.secret, version_info: r.version_info, response_nonce: r.nonce, resource_names: ['kubernetes://www-cred'] });
      await core.replaceNamespacedSecret({ namespace: NS, name: 'www-cred', body: { metadata: { name: 'www-cred' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('CERT-2'), 'tls.key': b64('KEY-2') } } });
      r = await s.mustNext(10_000);
      assert.equal(cert(decoded(r)[0]!), 'CERT-2');
    } finally {
      s.close();
      ads.close();
    }
  });
});
