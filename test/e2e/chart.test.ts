// The Helm chart on a real API server: its manifests (with the APIs the server has, chosen through .Capabilities) pass a
// server-side dry run, and `helm install` with the webhooks pointed at a local meshd by URL gives an
// injecting, validating control plane driven by the chart's own ConfigMaps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdmissionregistrationV1Api, AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { freePort, startCluster, writeKubeconfig, type Cluster } from './cluster.js';
import { injectedContainers, runningContainers, setClusterNode, waitForServiceAccount } from './fixtures.js';
import { helm, installIstioCrds, kubectl } from './kube-tools.js';

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
    const t = helm(cluster.kubeconfig, home, 'template', 'meshd', CHART, '-n', 'default', '--dry-run=server',
      '--set', 'revision=canary', '--set', 'pilot.autoscaleMin=2',
      // The ServiceAccount and Role go to global.istioNamespace, as istiod's chart puts them.
      '--set', 'global.istioNamespace=default');
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

  // The stable profile's ValidatingAdmissionPolicy (GA in v1.30): meshd's wording of the stable-channel
  // rules, enforced by the API server itself, for config of this revision only.
  it('profile=stable: the API server refuses config outside the stable channel', (ctx) => {
    if (cluster.minor < 30) return ctx.skip('ValidatingAdmissionPolicy is GA from v1.30');
    installIstioCrds(cluster.kubeconfig);
    const t = helm(cluster.kubeconfig, home, 'template', 'stable', CHART, '-n', 'istio-system',
      '--set', 'profile=stable', '--show-only', 'templates/validatingadmissionpolicy.yaml');
    assert.equal(t.status, 0, t.out);
    const policy = join(home, 'stable-policy.yaml');
    writeFileSync(policy, t.stdout);
    const applied = kubectl(cluster.kubeconfig, 'apply', '-f', policy);
    assert.equal(applied.status, 0, applied.out);
    const labels = { 'istio.io/rev': 'default' };
    const obj = (apiVersion: string, kind: string, spec: object): object => ({ apiVersion, kind, spec });
    const telemetry = (spec: object): object => obj('telemetry.istio.io/v1', 'Telemetry', spec);
    const authz = (source: object): object =>
      obj('security.istio.io/v1', 'AuthorizationPolicy', { rules: [{ from: [{ source }] }] });
    const route = { hosts: ['a'], http: [{ route: [{ destination: { host: 'a' } }] }] };
    const wasm = obj('extensions.istio.io/v1alpha1', 'WasmPlugin', { url: 'oci://x' });
    const rows: { name: string; obj: object; refused: boolean }[] = [
      { name: 'EnvoyFilter', obj: obj('networking.istio.io/v1alpha3', 'EnvoyFilter', {}), refused: true },
      { name: 'ProxyConfig', obj: obj('networking.istio.io/v1beta1', 'ProxyConfig', {}), refused: true },
      { name: 'WasmPlugin', obj: wasm, refused: true },
      { name: 'Telemetry access log filter', refused: true,
        obj: telemetry({ accessLogging: [{ filter: { expression: 'true' } }] }) },
      { name: 'Telemetry metrics reportingInterval', refused: true,
        obj: telemetry({ metrics: [{ reportingInterval: '5s' }] }) },
      { name: 'Telemetry useRequestIdForTraceSampling', refused: true,
        obj: telemetry({ tracing: [{ useRequestIdForTraceSampling: true }] }) },
      { name: 'Telemetry with stable fields', refused: false,
        obj: telemetry({ accessLogging: [{ disabled: true }] }) },
      { name: 'AuthorizationPolicy by trust domain', obj: authz({ notTrustDomains: ['x'] }), refused: true },
      { name: 'AuthorizationPolicy by principal', obj: authz({ principals: ['x'] }), refused: false },
      { name: 'VirtualService', obj: obj('networking.istio.io/v1', 'VirtualService', route), refused: false },
    ];
    // The policy takes effect once the API server has compiled it: wait on the first row.
    const dry = (row: (typeof rows)[number], rowLabels: object): ReturnType<typeof kubectl> => {
      const file = join(home, 'stable-object.json');
      const metadata = { name: 'stable-check', namespace: 'default', labels: rowLabels };
      writeFileSync(file, JSON.stringify({ ...row.obj, metadata }));
      return kubectl(cluster.kubeconfig, 'create', '--dry-run=server', '-f', file);
    };
    const deadline = Date.now() + 30_000;
    while (dry(rows[0]!, labels).status === 0 && Date.now() < deadline) spawnSync('sleep', ['0.5']);
    for (const row of rows) {
      const r = dry(row, labels);
      assert.equal(r.status !== 0, row.refused, `${row.name}: ${r.out}`);
      if (row.refused) assert.match(r.out, /ValidatingAdmissionPolicy/, row.name);
    }
    assert.equal(dry(rows[0]!, {}).status, 0, 'config of no revision is not this revision\'s to refuse');
  });
});
