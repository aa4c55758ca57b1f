// Injection through a real kube-apiserver: meshd reads its settings and the nodes from the cluster, the
// API server calls the webhook by URL, and pods come back injected (or not) as Istio's would. This cluster
// has an operator's plug-in CA (`cacerts`, with a CRL), which meshd must use instead of its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { createCA, type KeyPairPem } from '../../src/ca/self-signed.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { post } from '../helpers/servers.js';
import { startCluster, type Cluster } from './cluster.js';
import { nativeSidecars, registerInjector, runningContainers, setClusterNode, setNode, waitForServiceAccount } from './fixtures.js';

let cluster: Cluster;
let meshd: MeshdProcess;
let core: CoreV1Api;
let pluginCa: KeyPairPem;
const CRL = '-----BEGIN X509 CRL-----\nnot checked by meshd\n-----END X509 CRL-----\n';

const valuesWith = (logLevel: string): string => JSON.stringify({ global: { hub: 'docker.io/istio', tag: '1.28.0', proxy: { logLevel } } });

async function createPod(namespace: string, name: string, labels: Record<string, string> = {}): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace, body: { metadata: { name, labels: { app: name, ...labels } }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } });
}

const names = (l: Array<{ name: string }> | undefined): string[] => (l ?? []).map((c) => c.name);
const proxyOf = (p: V1Pod) => [...(p.spec!.initContainers ?? []), ...p.spec!.containers].find((c) => c.name === 'istio-proxy');

before(async () => {
  cluster = await startCluster();
  core = cluster.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
  await core.createNamespacedConfigMap({ namespace: 'istio-system', body: { metadata: { name: 'istio-sidecar-injector' }, data: { values: valuesWith('info') } } });
  await core.createNamespacedConfigMap({ namespace: 'istio-system', body: { metadata: { name: 'istio' }, data: { mesh: 'trustDomain: e2e.local\n' } } });
  // A node of the API server's own release: native sidecars on v1.36 (kubelet >= 1.33), classic on v1.20.
  await setClusterNode(core, cluster);
  pluginCa = await createCA('operator root', 'example.com');
  const b64 = (t: string): string => Buffer.from(t).toString('base64');
  await core.createNamespacedSecret({
    namespace: 'istio-system',
    body: { metadata: { name: 'cacerts' }, data: { 'ca-cert.pem': b64(pluginCa.certPem), 'ca-key.pem': b64(pluginCa.keyPem), 'root-cert.pem': b64(pluginCa.certPem), 'cert-chain.pem': b64(pluginCa.certPem), 'ca-crl.pem': b64(CRL) } },
  });
  meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig]);
  await registerInjector(cluster.kc, `https://127.0.0.1:${meshd.webhookPort}/inject`, meshd.ca);
  await core.createNamespace({ body: { metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } } });
  await core.createNamespace({ body: { metadata: { name: 'plain' } } });
  // The namespace controller must create the default service account before pods can be admitted.
  await waitForServiceAccount(core, 'shop');
  await waitForServiceAccount(core, 'plain');
});

after(async () => {
  await meshd?.close();
  await cluster?.stop();
});

describe('plug-in CA', () => {
  it('serves a certificate from the cacerts Secret and distributes its root and CRL', async () => {
    // The webhook registered with the operator's root (not one meshd made) is what admits the pods below.
    assert.equal(meshd.ca, pluginCa.certPem);
    await waitFor('istio-ca-root-cert with the operator root', async () => ((await core.readNamespacedConfigMap({ namespace: 'shop', name: 'istio-ca-root-cert' }).catch(() => undefined))?.data?.['root-cert.pem'] === pluginCa.certPem ? true : undefined), 20_000, () => meshd.logs());
    await waitFor('istio-ca-crl', async () => ((await core.readNamespacedConfigMap({ namespace: 'shop', name: 'istio-ca-crl' }).catch(() => undefined))?.data?.['ca-crl.pem'] === CRL ? true : undefined), 20_000, () => meshd.logs());
    await assert.rejects(core.readNamespacedSecret({ namespace: 'istio-system', name: 'istio-ca-secret' }), (e: { code?: number }) => e.code === 404);
  });
});

describe('injection through the API server', () => {
  it('injects a pod in a namespace labelled istio-injection=enabled, with settings from the cluster', async () => {
    const pod = await createPod('shop', 'web');
    const native = nativeSidecars(cluster);
    assert.deepEqual(names(pod.spec!.initContainers), native ? ['istio-init', 'istio-proxy'] : ['istio-init']);
    assert.deepEqual(names(pod.spec!.containers), native ? ['app'] : ['app', 'istio-proxy']);
    const proxy = proxyOf(pod)!;
    assert.equal(proxy.restartPolicy, native ? 'Always' : undefined, 'the API server kept the native sidecar as one');
    assert.ok(proxy.args!.includes('--proxyLogLevel=info'));
    assert.equal(proxy.env!.find((e) => e.name === 'TRUST_DOMAIN')!.value, 'e2e.local');
    assert.equal(pod.metadata!.labels!['security.istio.io/tlsMode'], 'istio');
    assert.ok(pod.metadata!.annotations!['sidecar.istio.io/status']);
  });
  it('leaves pods alone in other namespaces and when they opt out', async () => {
    for (const pod of [await createPod('plain', 'other'), await createPod('shop', 'optout', { 'sidecar.istio.io/inject': 'false' })]) {
      assert.deepEqual(names(pod.spec!.initContainers), [], pod.metadata!.name);
      assert.deepEqual(runningContainers(pod), ['app'], pod.metadata!.name);
    }
  });
  it('follows a change of the injector ConfigMap', async () => {
    await core.replaceNamespacedConfigMap({ name: 'istio-sidecar-injector', namespace: 'istio-system', body: { metadata: { name: 'istio-sidecar-injector' }, data: { values: valuesWith('debug') } } });
    let n = 0;
    await waitFor('a pod injected with the new values', async () => {
      const pod = await createPod('shop', `reload-${n++}`);
      return proxyOf(pod)!.args!.includes('--proxyLogLevel=debug') ? true : undefined;
    }, 20_000, () => meshd.logs());
  });
  it('switches to native sidecars when every node in the cluster runs kubelet 1.33 or later', async () => {
    // v1.36 runs native sidecars: pods go through the API server. A v1.20 API server would keep an init
    // container with restartPolicy Always as a blocking one (it drops the field), so there ask meshd directly.
    const review = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'n', namespace: 'shop', operation: 'CREATE', object: { metadata: { generateName: 'native-', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
    });
    let n = 0;
    const proxyPlacement = async (): Promise<string> => {
      let init: Array<{ name: string; restartPolicy?: string }>;
      if (nativeSidecars(cluster)) {
        init = (await createPod('shop', `placement-${n++}`)).spec!.initContainers ?? [];
      } else {
        const r = (await post(meshd, '/inject', review)).json();
        const ops = JSON.parse(Buffer.from(r.response.patch, 'base64').toString('utf8')) as Array<{ path: string; value: typeof init }>;
        init = ops.find((o) => o.path === '/spec/initContainers')?.value ?? [];
      }
      return init.some((c) => c.name === 'istio-proxy' && c.restartPolicy === 'Always') ? 'native' : 'classic';
    };
    const placement = (want: string) => async () => ((await proxyPlacement()) === want ? true : undefined);
    if (nativeSidecars(cluster)) {
      assert.equal(await proxyPlacement(), 'native', `node-a runs kubelet ${cluster.version}`);
      await setNode(core, 'node-b', 'v1.28.0');
      await waitFor('classic sidecars with an older node', placement('classic'), 20_000, () => meshd.logs());
      await setNode(core, 'node-b', 'v1.33.1');
      await waitFor('native sidecars again', placement('native'), 20_000, () => meshd.logs());
    } else {
      assert.equal(await proxyPlacement(), 'classic', `node-a runs kubelet ${cluster.version}`);
      await setNode(core, 'node-a', 'v1.33.1');
      await waitFor('native sidecars', placement('native'), 20_000, () => meshd.logs());
      await setNode(core, 'node-b', 'v1.28.0');
      await waitFor('classic sidecars again', placement('classic'), 20_000, () => meshd.logs());
    }
  });
});
