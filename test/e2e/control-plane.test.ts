// meshd as an in-cluster control plane, through a real kube-apiserver: it keeps its CA root in a Secret,
// patches its webhook configurations (registered by URL, with no caBundle), gets validation to Fail,
// keeps istio-ca-root-cert in every namespace, hands the namespace controller over when its leader dies,
// rotates a root near expiry, and loses nothing across a restart.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdmissionregistrationV1Api, AppsV1Api, CoordinationV1Api, CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { caRootFromSecret, rotationDue } from '../../src/ca/root.js';
import { createCA, splitPem } from '../../src/ca/self-signed.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { getText, post } from '../helpers/servers.js';
import { freePort, startCluster, type Cluster } from './cluster.js';
import { injectedContainers, registerInjector, runningContainers, setClusterNode, waitForServiceAccount } from './fixtures.js';
import { installIstioCrds, kubectl as kubectlIn } from './kube-tools.js';

let cluster: Cluster;
let core: CoreV1Api;
let admission: AdmissionregistrationV1Api;
let webhookPort: number;
const replicas = new Map<string, MeshdProcess>();

const NS = 'istio-system';
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

async function startReplica(name: string, port = 0): Promise<MeshdProcess> {
  const meshd = await startMeshd(
    ['--kubeconfig', cluster.kubeconfig, '--webhook-port', String(port), '--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '500ms', '--shutdown-delay', '0'],
    { POD_NAME: name, CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL: '1s' },
  );
  replicas.set(name, meshd);
  return meshd;
}

async function stopReplica(name: string): Promise<void> {
  await replicas.get(name)?.close();
  replicas.delete(name);
}

const logs = (): string => [...replicas.entries()].map(([n, m]) => `--- ${n}\n${m.logs().slice(-3000)}`).join('\n');

async function roots(): Promise<string> {
  const secret = await core.readNamespacedSecret({ namespace: NS, name: 'istio-ca-secret' });
  return caRootFromSecret('istio-ca-secret', secret.data, new Date())!.rootsPem;
}

async function configMap(namespace: string): Promise<V1ConfigMap | undefined> {
  try {
    return await core.readNamespacedConfigMap({ namespace, name: 'istio-ca-root-cert' });
  } catch {
    return undefined;
  }
}

const holdsRoots = async (namespace: string, want: string): Promise<true | undefined> => ((await configMap(namespace))?.data?.['root-cert.pem'] === want ? true : undefined);

async function leaseHolder(): Promise<string> {
  const lease = await cluster.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: NS, name: 'istio-namespace-controller-election' }).catch(() => undefined);
  return lease?.spec?.holderIdentity ?? '';
}

const kubectl = (...args: string[]) => kubectlIn(cluster.kubeconfig, ...args);

async function labelledNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels: { 'istio-injection': 'enabled' } } } });
  await waitForServiceAccount(core, name);
}

async function injectedPod(namespace: string, name: string): Promise<string[]> {
  const pod = await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } });
  return runningContainers(pod);
}

before(async () => {
  cluster = await startCluster();
  core = cluster.kc.makeApiClient(CoreV1Api);
  admission = cluster.kc.makeApiClient(AdmissionregistrationV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  // A node of the API server's release: native sidecars on v1.36, classic ones (all v1.20 accepts) on v1.20.
  await setClusterNode(core, cluster);
  installIstioCrds(cluster.kubeconfig);
  webhookPort = await freePort();
  await startReplica('meshd-a', webhookPort);
  // Registered by URL (never by service here), no caBundle (meshd patches it in), validation on Ignore.
  await registerInjector(cluster.kc, `https://127.0.0.1:${webhookPort}/inject`);
  // Another revision's configuration: not meshd's to patch.
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'istio-sidecar-injector-canary', labels: { 'istio.io/rev': 'canary' } },
      webhooks: [
        {
          name: 'rev.namespace.sidecar-injector.istio.io',
          clientConfig: { url: 'https://127.0.0.1:1/inject' },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
          namespaceSelector: { matchLabels: { 'istio.io/rev': 'canary' } },
          sideEffects: 'None',
          admissionReviewVersions: ['v1'],
        },
      ],
    },
  });
  await admission.createValidatingWebhookConfiguration({
    body: {
      metadata: { name: `istio-validator-${NS}`, labels: { 'istio.io/rev': 'default' } },
      webhooks: [
        {
          name: 'rev.validation.istio.io',
          clientConfig: { url: `https://127.0.0.1:${webhookPort}/validate` },
          rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'extensions.istio.io'], apiVersions: ['*'], resources: ['*'] }],
          sideEffects: 'None',
          failurePolicy: 'Ignore',
          admissionReviewVersions: ['v1'],
        },
      ],
    },
  });
});

after(async () => {
  for (const name of [...replicas.keys()]) await stopReplica(name);
  await cluster?.stop();
});

describe('cluster mode', () => {
  it('keeps a self-signed root in istio-ca-secret and serves a certificate it verifies', async () => {
    const secret = await core.readNamespacedSecret({ namespace: NS, name: 'istio-ca-secret' });
    assert.equal(secret.type, 'istio.io/ca-root');
    const meshd = replicas.get('meshd-a')!;
    assert.equal(await roots(), meshd.ca);
    // The webhook's certificate chains to that root (post verifies the server against meshd.ca).
    assert.equal((await post(meshd, '/validate', '{}')).status, 200);
  });

  it('patches caBundle into its webhooks and turns validation to Fail once it answers', async () => {
    const want = b64(await roots());
    await waitFor('patched webhooks', async () => {
      const m = await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' });
      const v = await admission.readValidatingWebhookConfiguration({ name: `istio-validator-${NS}` });
      const ok = m.webhooks![0]!.clientConfig.caBundle === want && v.webhooks![0]!.clientConfig.caBundle === want && v.webhooks![0]!.failurePolicy === 'Fail';
      return ok ? true : undefined;
    }, 30_000, logs);
    const canary = await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector-canary' });
    assert.equal(canary.webhooks![0]!.clientConfig.caBundle, undefined);
  });

  it('injects the pods of a Deployment', async () => {
    await labelledNamespace('apps');
    const apps = cluster.kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: 'apps',
      body: {
        metadata: { name: 'web' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      },
    });
    const pods = await waitFor('the Deployment pods', async () => {
      const list = await core.listNamespacedPod({ namespace: 'apps', labelSelector: 'app=web' });
      return list.items.length === 2 ? list.items : undefined;
    }, 30_000, logs);
    for (const pod of pods) {
      assert.deepEqual(runningContainers(pod), injectedContainers(cluster, 'web'));
      assert.ok(pod.metadata!.annotations!['sidecar.istio.io/status']);
    }
  });

  it('refuses a bad VirtualService at kubectl apply and accepts a good one', () => {
    const vs = (name: string, route: unknown): string =>
      JSON.stringify({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name, namespace: 'default' }, spec: { hosts: ['reviews'], http: [{ route }] } });
    const bad = join(cluster.dir, 'bad-vs.json');
    const good = join(cluster.dir, 'good-vs.json');
    writeFileSync(bad, vs('bad', [{ destination: { host: 'reviews', subset: 'v1' }, weight: -5 }]));
    writeFileSync(good, vs('good', [{ destination: { host: 'reviews', subset: 'v1' } }]));
    const refused = kubectl('apply', '-f', bad);
    assert.notEqual(refused.status, 0, refused.out);
    assert.match(refused.out, /denied the request/);
    assert.match(refused.out, /weight/);
    const accepted = kubectl('apply', '-f', good);
    assert.equal(accepted.status, 0, accepted.out);
    assert.match(kubectl('get', 'virtualservices', '-n', 'default', '-o', 'name').out, /good/);
  });

  it("serves Istio's CRDs: Established, explained, Istio's columns, mistyped fields refused", async () => {
    // One line per CRD (the whole JSON, schemas included, is megabytes).
    const established = '{.status.conditions[?(@.type=="Established")].status}';
    const list = kubectl('get', 'crd', '-o',
      `jsonpath={range .items[*]}{.metadata.name} ${established}{"\\n"}{end}`);
    assert.equal(list.status, 0, list.out);
    const istio = list.stdout.trim().split('\n').filter((l) => /\.istio\.io /.test(l));
    assert.equal(istio.length, 15, list.stdout);
    for (const line of istio) assert.match(line, / True$/);

    const explain = kubectl('explain', 'virtualservices.spec.http.route');
    assert.equal(explain.status, 0, explain.out);
    assert.match(explain.out, /KIND:\s+VirtualService/);
    // Istio's description of the field (kubectl wraps it: compare with whitespace folded).
    const described = /A HTTP rule can either return a direct_response, redirect or forward \(default\)/;
    assert.match(explain.out.replace(/\s+/g, ' '), described);
    for (const field of ['destination', 'headers', 'weight']) {
      assert.match(explain.out, new RegExp(`^\\s+${field}\\s+<`, 'm'), field);
    }

    const vs = (name: string, spec: unknown, apiVersion = 'networking.istio.io/v1'): string => {
      const file = join(cluster.dir, `${name}-vs.json`);
      const metadata = { name, namespace: 'default' };
      writeFileSync(file, JSON.stringify({ apiVersion, kind: 'VirtualService', metadata, spec }));
      return file;
    };
    const route = (more = {}): unknown => [{ route: [{ destination: { host: 'reviews' }, ...more }] }];
    // How many VirtualServices meshd's validating webhook has judged.
    const seen = async (): Promise<number> => {
      const { body } = await getText(replicas.get('meshd-a')!.monitoringPort, '/metrics');
      const counted = /^galley_validation_(passed|failed)\{.*resource="virtualservices"/;
      const rows = body.split('\n').filter((l) => counted.test(l));
      return rows.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    };
    // --validate=false: kubectl sends them as written, so the API server's schema is what refuses them.
    const before = await seen();
    const asWritten = (file: string) => kubectl('apply', '--validate=false', '-f', file);
    const mistyped = asWritten(vs('mistyped', { hosts: 'reviews', http: route() }));
    assert.notEqual(mistyped.status, 0, mistyped.out);
    assert.match(mistyped.out,
      /spec\.hosts: Invalid value: "string": spec\.hosts in body must be of type array/);
    assert.doesNotMatch(mistyped.out, /denied the request/);
    const text = asWritten(vs('weight-text', { hosts: ['reviews'], http: route({ weight: 'all' }) }));
    assert.notEqual(text.status, 0, text.out);
    // v1.20 names the field without list indices.
    const weight = /spec\.http(\[0\])?\.route(\[0\])?\.weight: Invalid value: "string": .* type integer/;
    assert.match(text.out, weight);
    assert.equal(await seen(), before, 'the schema refused them: meshd never saw them');

    // What the schema lets through still goes to meshd, at every version Istio serves.
    const spec = { hosts: ['reviews.default.svc.cluster.local'], gateways: ['mesh'], http: route() };
    for (const version of ['v1alpha3', 'v1beta1', 'v1']) {
      const ok = kubectl('apply', '-f', vs(`columns-${version}`, spec, `networking.istio.io/${version}`));
      assert.equal(ok.status, 0, ok.out);
    }
    assert.equal(await seen(), before + 3);
    const get = kubectl('get', 'vs', '-n', 'default', 'columns-v1');
    assert.equal(get.status, 0, get.out);
    const [header, row] = get.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
    assert.deepEqual(header, ['NAME', 'GATEWAYS', 'HOSTS', 'AGE']);
    assert.deepEqual(row!.slice(0, 3), ['columns-v1', '["mesh"]', '["reviews.default.svc.cluster.local"]']);
  });

  it('puts istio-ca-root-cert in every namespace but the ignored ones, including namespaces created later', async () => {
    const want = await roots();
    for (const ns of ['default', 'kube-system', NS, 'apps']) await waitFor(`istio-ca-root-cert in ${ns}`, () => holdsRoots(ns, want), 20_000, logs);
    const cm = (await configMap('default'))!;
    assert.equal(cm.metadata!.labels!['istio.io/config'], 'true');
    for (const ns of ['kube-public', 'kube-node-lease']) assert.equal(await configMap(ns), undefined, ns);
    await core.createNamespace({ body: { metadata: { name: 'later' } } });
    await waitFor('istio-ca-root-cert in a new namespace', () => holdsRoots('later', want), 10_000, logs);
  });

  it('restores an edited or deleted istio-ca-root-cert and keeps the keys a user added', async () => {
    const want = await roots();
    const cm = (await configMap('later'))!;
    await core.replaceNamespacedConfigMap({ namespace: 'later', name: 'istio-ca-root-cert', body: { ...cm, data: { 'root-cert.pem': 'tampered', 'user-note': 'mine' } } });
    await waitFor('the root restored', () => holdsRoots('later', want), 10_000, logs);
    assert.equal((await configMap('later'))!.data!['user-note'], 'mine');
    await core.deleteNamespacedConfigMap({ namespace: 'later', name: 'istio-ca-root-cert' });
    await waitFor('the ConfigMap recreated', () => holdsRoots('later', want), 10_000, logs);
  });

  it('re-patches a webhook configuration someone changed', async () => {
    const other = await createCA('someone else');
    const m = await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' });
    m.webhooks![0]!.clientConfig.caBundle = b64(other.certPem);
    await admission.replaceMutatingWebhookConfiguration({ name: 'istio-sidecar-injector', body: m });
    const want = b64(await roots());
    await waitFor('caBundle restored', async () => ((await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' })).webhooks![0]!.clientConfig.caBundle === want ? true : undefined), 10_000, logs);
    assert.deepEqual(await injectedPod('apps', 'after-repatch'), injectedContainers(cluster));
  });

  it('re-issues a root near expiry from the same key and keeps the old root in the bundle', async () => {
    // A root with 30 s left of a 5.5 min life is inside the 20% grace period.
    const old = await createCA('meshd root CA', 'cluster.local', 30 / 86400);
    assert.ok(rotationDue(old.certPem, new Date(), { ttlMs: 0, gracePercent: 20 }));
    const secret = await core.readNamespacedSecret({ namespace: NS, name: 'istio-ca-secret' });
    await core.replaceNamespacedSecret({ namespace: NS, name: 'istio-ca-secret', body: { ...secret, data: { 'ca-cert.pem': b64(old.certPem), 'ca-key.pem': b64(old.keyPem), 'cert-chain.pem': '', 'root-cert.pem': '' } } });
    const rotated = await waitFor('the root re-issued', async () => {
      const s = await core.readNamespacedSecret({ namespace: NS, name: 'istio-ca-secret' });
      return unb64(s.data!['ca-cert.pem']) !== old.certPem ? s : undefined;
    }, 20_000, logs);
    assert.equal(unb64(rotated.data!['ca-key.pem']), old.keyPem);
    const bundle = unb64(rotated.data!['root-cert.pem']);
    assert.deepEqual(splitPem(bundle), [unb64(rotated.data!['ca-cert.pem']), old.certPem]);
    await waitFor('both roots in istio-ca-root-cert', () => holdsRoots('default', bundle), 20_000, logs);
    await waitFor('both roots in the caBundle', async () => ((await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' })).webhooks![0]!.clientConfig.caBundle === b64(bundle) ? true : undefined), 20_000, logs);
    // The test swapped in a root with a new key, so the caBundle leads the serving certificate briefly.
    let n = 0;
    await waitFor('injection under the new root', async () => ((await injectedPod('apps', `after-rotation-${n++}`).catch(() => [])).length === 2 ? true : undefined), 10_000, logs);
    // Once the old root expires the overlap ends: only the new root is distributed.
    const newRoot = unb64(rotated.data!['ca-cert.pem']);
    await waitFor('the expired root dropped', () => holdsRoots('default', newRoot), 45_000, logs);
  });

  it('rides out an API server restart: watches and leadership resume', async () => {
    await cluster.stopApiServer();
    await new Promise((r) => setTimeout(r, 5_000)); // longer than the renew deadline: the leader steps down
    await cluster.startApiServer();
    await core.createNamespace({ body: { metadata: { name: 'after-apiserver-restart' } } });
    const want = await roots();
    await waitFor('istio-ca-root-cert after the API server came back', () => holdsRoots('after-apiserver-restart', want), 40_000, logs);
    const m = await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' });
    m.webhooks![0]!.clientConfig.caBundle = b64('not a CA');
    await admission.replaceMutatingWebhookConfiguration({ name: 'istio-sidecar-injector', body: m });
    await waitFor('caBundle re-patched after the API server came back', async () => ((await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' })).webhooks![0]!.clientConfig.caBundle === b64(want) ? true : undefined), 40_000, logs);
  });

  it('hands the namespace controller to another replica when the leader dies', async () => {
    await startReplica('meshd-b');
    await startReplica('meshd-c');
    const leader = await waitFor('a leader', async () => (await leaseHolder()) || undefined, 20_000, logs);
    assert.ok(replicas.has(leader), `leader ${leader} is one of the replicas`);
    replicas.get(leader)!.child.kill('SIGKILL');
    await replicas.get(leader)!.close();
    replicas.delete(leader);
    const next = await waitFor('a new leader', async () => {
      const h = await leaseHolder();
      return h && h !== leader ? h : undefined;
    }, 20_000, logs);
    assert.ok(replicas.has(next), `new leader ${next} is alive`);
    await core.createNamespace({ body: { metadata: { name: 'after-failover' } } });
    const want = await roots();
    await waitFor('istio-ca-root-cert from the new leader', () => holdsRoots('after-failover', want), 15_000, logs);
  });

  it('loses nothing across a restart', async () => {
    const before = { roots: await roots(), user: (await configMap('later'))!.data };
    const mwc = (await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' })).webhooks![0]!.clientConfig.caBundle;
    for (const name of [...replicas.keys()]) await stopReplica(name);
    await startReplica('meshd-a', webhookPort);
    assert.equal(await roots(), before.roots);
    assert.equal((await admission.readMutatingWebhookConfiguration({ name: 'istio-sidecar-injector' })).webhooks![0]!.clientConfig.caBundle, mwc);
    assert.deepEqual(await injectedPod('apps', 'after-restart'), injectedContainers(cluster));
    await waitFor('the namespace controller back', async () => ((await leaseHolder()) === 'meshd-a' ? true : undefined), 20_000, logs);
    await core.createNamespace({ body: { metadata: { name: 'after-restart' } } });
    await waitFor('istio-ca-root-cert after the restart', () => holdsRoots('after-restart', before.roots), 15_000, logs);
    assert.deepEqual((await configMap('later'))!.data, before.user);
  });
});
