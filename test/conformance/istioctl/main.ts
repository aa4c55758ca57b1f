// `npm run conformance:istioctl`: istioctl (1.31, built in test/peers) against meshd. Part 1: kube-inject
// and `meshd inject` on the inputs of Istio's injection goldens with meshd's chart settings (kube-inject.ts).
// Part 2: proxy-status --xds-address with three proxies connected, against meshd and then real istiod
// (proxy-status.ts). istioctl wants an API server even offline, so both parts run on the e2e cluster inside
// fresh network and PID namespaces (run.sh). Prints one score line per check, writes the differences to
// .conformance/istioctl-differences.txt, and holds the scores to their floors (floors.json, key istioctl).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { startCluster } from '../../e2e/cluster.js';
import { installIstioCrds } from '../../e2e/kube-tools.js';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { scratchDir } from '../../helpers/scratch.js';
import { ratchet } from '../floors.js';
import { FIXTURES, INJECT_DIR, istioTemplates } from '../inject.js';
import { startIstiod, type Istiod } from '../istiod/istiod.js';
import { chartInjectorFiles } from './chart-config.js';
import { injectScores, kubeInjectRound, ROUNDS, type InjectCounts, type InjectRound } from './kube-inject.js';
import { connectProxies, settledProxyStatus, syncedProxies, writeCertDir, type IstioctlAnswer, type Proxy } from './proxy-status.js';

const NS = 'istio-system';

/** Istio's templates and test-default values, as the istiod part's istio-sidecar-injector ConfigMap. */
function istioInjectorData(): Record<string, string> {
  const config = { policy: 'enabled', defaultTemplates: ['sidecar'], alwaysInjectSelector: [], neverInjectSelector: [], injectedAnnotations: {}, templates: istioTemplates() };
  return { config: JSON.stringify(config), values: readFileSync(join(FIXTURES, 'injector-values.test-default.json'), 'utf8') };
}

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run with \`npm run conformance:istioctl\``);
  return v;
}

interface Check {
  name: string;
  answer: IstioctlAnswer;
  proxies: Proxy[];
}

const synced = (c: Check): string =>
  `${syncedProxies(c.answer, c.proxies).length}/${c.proxies.length} connected proxies listed by istioctl proxy-status as synced, ${c.name}`;

/** istiod refuses istio.io/debug/syncz on its plain-text port (no verified identity); so must meshd. */
const refusedPlainText = (a: IstioctlAnswer): boolean => !a.ok && /Unauthenticated.*authentication required/.test(a.output);

async function main(): Promise<void> {
  const peers = need('MESHD_PEERS_BIN');
  const istioctl = join(peers, 'istioctl');
  const helm = join(need('MESHD_KUBE_TOOLS'), 'helm');
  const outDir = process.env.MESHD_CONFORMANCE_OUT ?? join(import.meta.dirname, '..', '..', '..', '.conformance');
  const started = Date.now();
  const scratch = scratchDir('meshd-istioctl-');
  const report: string[] = [];
  const cluster = await startCluster();
  let meshd: MeshdProcess | undefined;
  let istiod: Istiod | undefined;
  let proxies: Proxy[] = [];
  try {
    const core = cluster.kc.makeApiClient(CoreV1Api);
    installIstioCrds(cluster.kubeconfig);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const files = chartInjectorFiles(helm, scratch);
    console.log(`cluster up (Kubernetes ${cluster.version}) after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // Part 1: kube-inject.
    const rounds: Array<[InjectRound, InjectCounts]> = [];
    for (const round of ROUNDS) {
      const t = Date.now();
      const counts = await kubeInjectRound(istioctl, cluster.kubeconfig, files, scratch, round);
      rounds.push([round, counts]);
      report.push(`== kube-inject, ${round.name}`, ...counts.diffs.map((d) => `  ${d}`));
      console.log(`kube-inject round "${round.name}": ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    const scores = injectScores(rounds);

    // Part 2: proxy-status. The ConfigMaps hold the same settings for meshd and istiod (istiod needs them to start).
    const cm = (name: string, data: Record<string, string>) => core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data } });
    await cm('istio', { mesh: readFileSync(files.mesh, 'utf8') });
    await cm('istio-sidecar-injector', { config: readFileSync(files.config, 'utf8'), values: readFileSync(files.values, 'utf8') });
    meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], { ENABLE_LEADER_ELECTION: 'false', POD_NAMESPACE: NS, POD_NAME: 'meshd-conformance' });
    const secret = await core.readNamespacedSecret({ namespace: NS, name: 'istio-ca-secret' });
    const pem = (k: string): string => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    const certDir = scratchDir('meshd-istioctl-certs-');
    writeCertDir(certDir, { certPem: pem('ca-cert.pem'), keyPem: pem('ca-key.pem') }, meshd.ca);
    proxies = connectProxies(`127.0.0.1:${meshd.xdsPort}`);
    const tls = ['--xds-address', `127.0.0.1:${meshd.xdsTlsPort}`];
    const checks: Check[] = [
      { name: 'meshd, Kubernetes token on the TLS port', answer: await settledProxyStatus(istioctl, cluster.kubeconfig, tls, proxies), proxies },
      {
        name: 'meshd, mesh certificate on the TLS port (--cert-dir)',
        answer: await settledProxyStatus(istioctl, cluster.kubeconfig, [...tls, '--cert-dir', certDir, '--authority', 'istiod.istio-system.svc'], proxies),
        proxies,
      },
    ];
    const plainMeshd = await settledProxyStatus(istioctl, cluster.kubeconfig, ['--xds-address', `127.0.0.1:${meshd.xdsPort}`, '--plaintext'], proxies, 0);
    for (const p of proxies) p.close();
    proxies = [];
    await meshd.close();
    meshd = undefined;

    // istiod gets Istio's own templates and test values (the istiod part's settings): Go's text/template refuses
    // meshd's templates with meshd's chart values (part 1 measures that), and istiod starts only once it injects.
    await core.replaceNamespacedConfigMap({ namespace: NS, name: 'istio-sidecar-injector', body: { metadata: { name: 'istio-sidecar-injector' }, data: istioInjectorData() } });
    istiod = await startIstiod(join(peers, 'pilot-discovery'), cluster.kubeconfig);
    proxies = connectProxies(`127.0.0.1:${istiod.grpcPort}`);
    checks.push({ name: 'real istiod with the same proxies, token on the TLS port', answer: await settledProxyStatus(istioctl, cluster.kubeconfig, ['--xds-address', `127.0.0.1:${istiod.grpcTlsPort}`], proxies), proxies });
    const plainIstiod = await settledProxyStatus(istioctl, cluster.kubeconfig, ['--xds-address', `127.0.0.1:${istiod.grpcPort}`, '--plaintext'], proxies, 0);

    scores.push(...checks.map(synced));
    const refused = [plainMeshd, plainIstiod].filter(refusedPlainText).length;
    scores.push(`${refused}/2 plain-text proxy-status requests refused as istiod refuses them (meshd and istiod: authentication required)`);
    for (const c of checks) report.push(`== proxy-status, ${c.name}`, c.answer.output);
    report.push('== proxy-status on the plain-text port, meshd', plainMeshd.output, '== proxy-status on the plain-text port, istiod', plainIstiod.output);

    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, 'istioctl-differences.txt');
    writeFileSync(file, [`# istioctl vs meshd (${cluster.version}); inputs from ${INJECT_DIR}`, '# kube-inject: "got" is meshd inject, "want" istioctl.', ...scores, '', ...report, ''].join('\n'));
    for (const s of scores) console.log(s);
    console.log(`report: ${file} (${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
    const problems = ratchet('istioctl', scores);
    for (const p of problems) console.error(p);
    if (problems.length) process.exitCode = 1;
  } finally {
    for (const p of proxies) p.close();
    await meshd?.close();
    await istiod?.close();
    await cluster.stop();
  }
}

await main();
