// The Helm chart on a real API server: its manifests (with the APIs the server has, chosen through .Capabilities) pass a
// server-side dry run, and `helm install` with the webhooks pointed at a local meshd by URL gives an
// injecting, validating control plane driven by the chart's own ConfigMaps.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { freePort, startCluster, writeKubeconfig, type Cluster } from './cluster.js';
import { injectedContainers, runningContainers, setClusterNode, waitForServiceAccount } from './fixtures.js';
import { helm, kubectl } from './kube-tools.js';

const CHART = join(import.meta.dirname, '..', '..', 'charts', 'meshd');
let cluster: Cluster;
let core: CoreV1Api;
let meshd: MeshdProcess | undefined;
let home: string;

before(async () => {
  cluster = await startCluster();
  core = cluster.kc.makeApiClient(CoreV1Api);
  home = mkdtempSync(join(tmpdir(), 'meshd-helm-'));
  await setClusterNode(core, cluster);
});

after(async () => {
  await meshd?.close();
  await cluster?.stop();
});

/**
 * A kubeconfig that authenticates as a ServiceAccount, with a token from the TokenRequest API (what a pod's
 * projected token is; from v1.24 no Secret token is made for a ServiceAccount).
 */
async function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  await waitFor(`the ServiceAccount ${namespace}/${name}`, async () => (await core.readNamespacedServiceAccount({ namespace, name }).catch(() => undefined)), 30_000);
  const request = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = request.status!.token;
  const file = join(home, `${name}.kubeconfig`);
  writeKubeconfig(file, cluster.server, cluster.ca.certPem, name, { token });
  return file;
}

describe('Helm chart on the API server', () => {
  it('renders the API versions the cluster serves and passes a server-side dry run', () => {
    const t = helm(cluster.kubeconfig, home, 'template', 'meshd', CHART, '-n', 'default', '--dry-run=server', '--set', 'revision=canary', '--set', 'pilot.autoscaleMin=2');
    assert.equal(t.status, 0, t.out);
    // v1.20 has neither policy/v1 nor autoscaling/v2; v1.36 has only those (v1beta1 went in v1.25, v2beta2 in v1.26).
    const old = cluster.minor < 23;
    assert.match(t.stdout, old ? /apiVersion: policy\/v1beta1\nkind: PodDisruptionBudget/ : /apiVersion: policy\/v1\nkind: PodDisruptionBudget/);
    assert.match(t.stdout, old ? /apiVersion: autoscaling\/v2beta2\nkind: HorizontalPodAutoscaler/ : /apiVersion: autoscaling\/v2\nkind: HorizontalPodAutoscaler/);
    const file = join(home, 'rendered.yaml');
    writeFileSync(file, t.stdout);
    const dry = kubectl(cluster.kubeconfig, 'apply', '--dry-run=server', '-f', file);
    assert.equal(dry.status, 0, dry.out);
    assert.match(dry.out, /mutatingwebhookconfiguration.admissionregistration.k8s.io\/istio-sidecar-injector-canary-default created \(server dry run\)/);
  });

  it('installs with helm, and the pods of a labelled namespace come back with 2 containers', async () => {
    const port = await freePort();
    // Istio's CRDs carry x-kubernetes-validations, a field the CRD API has from Kubernetes 1.23: older API
    // servers refuse it in a server-side apply (Helm 4's default) and drop it from a plain create.
    const crdCreate = cluster.minor < 23 ? ['--server-side=false'] : [];
    const install = helm(cluster.kubeconfig, home, 'install', 'meshd', CHART, '-n', 'istio-system', '--create-namespace',
      ...crdCreate,
      '--set', `istiodRemote.injectionURL=https://127.0.0.1:${port}/inject`, '--set', `base.validationURL=https://127.0.0.1:${port}/validate`,
      '--set', 'global.proxy.logLevel=debug');
    assert.equal(install.status, 0, install.out);
    // The chart's Deployment cannot run here (no kubelet): meshd runs beside it, on the URL the chart registered,
    // with the chart's ServiceAccount token, so the chart's RBAC must be enough for everything meshd does.
    meshd = await startMeshd(['--kubeconfig', await serviceAccountKubeconfig('istio-system', 'istiod'), '--webhook-port', String(port)]);
    const admission = cluster.kc.makeApiClient(AdmissionregistrationV1Api);
    await waitFor('the chart webhooks patched and validation on Fail', async () => {
      const m = await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' });
      const v = await admission.readValidatingWebhookConfiguration({ name: 'istio-validator-istio-system' });
      return m.webhooks!.every((w) => w.clientConfig.caBundle) && v.webhooks![0]!.failurePolicy === 'Fail' ? true : undefined;
    }, 30_000, () => meshd!.logs());

    await core.createNamespace({ body: { metadata: { name: 'demo', labels: { 'istio-injection': 'enabled' } } } });
    await waitForServiceAccount(core, 'demo');
    await cluster.kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: 'demo',
      body: { metadata: { name: 'sample' }, spec: { replicas: 1, selector: { matchLabels: { app: 'sample' } }, template: { metadata: { labels: { app: 'sample' } }, spec: { containers: [{ name: 'sample', image: 'nginx' }] } } } },
    });
    const pod = await waitFor('the sample pod', async () => (await core.listNamespacedPod({ namespace: 'demo', labelSelector: 'app=sample' })).items[0], 30_000, () => meshd!.logs());
    assert.deepEqual(runningContainers(pod), injectedContainers(cluster, 'sample'));
    const proxy = [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers].find((c) => c.name === 'istio-proxy')!;
    assert.equal(proxy.image, 'docker.io/istio/proxyv2:1.28.0');
    assert.ok(proxy.args!.includes('--proxyLogLevel=debug'), 'values from the chart reach the template');

    const bad = join(home, 'bad-gateway.json');
    writeFileSync(bad, JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'bad', namespace: 'demo' }, spec: { servers: [] } }));
    const refused = kubectl(cluster.kubeconfig, 'apply', '-f', bad);
    assert.notEqual(refused.status, 0, refused.out);
    assert.match(refused.out, /denied the request/);
    // And the namespace controller, with the same rights.
    await waitFor('istio-ca-root-cert in the sample namespace', async () => ((await core.readNamespacedConfigMap({ namespace: 'demo', name: 'istio-ca-root-cert' }).catch(() => undefined)) ? true : undefined), 20_000, () => meshd!.logs());
    assert.doesNotMatch(meshd!.logs(), /forbidden/i);
  });
});
