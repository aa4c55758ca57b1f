// The Helm chart on a real API server: its manifests (with v1.20 APIs chosen through .Capabilities) pass a
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
import { setNode, waitForServiceAccount } from './fixtures.js';
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
  await setNode(core, 'node-a', 'v1.20.2');
});

after(async () => {
  await meshd?.close();
  await cluster?.stop();
});

/** A kubeconfig that authenticates as a ServiceAccount, with the token the controller manager issued it. */
async function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  const token = await waitFor(`a token for ${namespace}/${name}`, async () => {
    const secrets = await core.listNamespacedSecret({ namespace });
    const s = secrets.items.find((x) => x.type === 'kubernetes.io/service-account-token' && x.metadata?.annotations?.['kubernetes.io/service-account.name'] === name);
    return s?.data?.token ? Buffer.from(s.data.token, 'base64').toString('utf8') : undefined;
  }, 30_000);
  const file = join(home, `${name}.kubeconfig`);
  writeKubeconfig(file, cluster.server, cluster.ca.certPem, name, { token });
  return file;
}

describe('Helm chart on the API server', () => {
  it('renders v1.20 APIs from the cluster capabilities and passes a server-side dry run', () => {
    const t = helm(cluster.kubeconfig, home, 'template', 'meshd', CHART, '-n', 'default', '--dry-run=server', '--set', 'revision=canary', '--set', 'pilot.autoscaleMin=2');
    assert.equal(t.status, 0, t.out);
    // v1.20 has neither policy/v1 nor autoscaling/v2.
    assert.match(t.stdout, /apiVersion: policy\/v1beta1\nkind: PodDisruptionBudget/);
    assert.match(t.stdout, /apiVersion: autoscaling\/v2beta2\nkind: HorizontalPodAutoscaler/);
    const file = join(home, 'rendered.yaml');
    writeFileSync(file, t.stdout);
    const dry = kubectl(cluster.kubeconfig, 'apply', '--dry-run=server', '-f', file);
    assert.equal(dry.status, 0, dry.out);
    assert.match(dry.out, /mutatingwebhookconfiguration.admissionregistration.k8s.io\/istio-sidecar-injector-canary-default created \(server dry run\)/);
  });

  it('installs with helm, and the pods of a labelled namespace come back with 2 containers', async () => {
    const port = await freePort();
    const install = helm(cluster.kubeconfig, home, 'install', 'meshd', CHART, '-n', 'istio-system', '--create-namespace',
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
    assert.equal(pod.spec!.containers.length, 2);
    const proxy = pod.spec!.containers.find((c) => c.name === 'istio-proxy')!;
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
