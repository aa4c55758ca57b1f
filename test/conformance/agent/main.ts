// `npm run conformance:agent`: a real pilot-agent (test/peers) beside meshd on a real API server, in
// proxyless gRPC mode as Istio's grpc-agent template runs it, with a projected service-account token. Four
// steps, each needing the one before: the agent gets its workload certificate from meshd's
// CertificateService on the secure port, writes the gRPC bootstrap, proxies xDS from its socket to meshd,
// and a real @grpc/grpc-js-xds client using that bootstrap (GRPC_XDS_BOOTSTRAP) resolves the workload's
// Service through the agent and calls the echo server behind it. Then four refusals meshd must make to real
// agents and their clients (refusals.ts). Prints a score line for each part and a line per step, and
// checks the scores against their floors (floors.json, key `agent`). Exits 2 when the run cannot happen at
// all (no pilot-agent, no cluster), 1 when the score is under its floor or the run left files behind.
// Run by run.sh inside fresh network and PID namespaces; see README.md here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startBackend, type Backend } from '../../helpers/echo.js';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { podIp, startCluster, type Cluster } from '../../e2e/cluster.js';
import { installIstioCrds } from '../../e2e/kube-tools.js';
import { ratchet } from '../floors.js';
import { HOST_PATHS, startPilotAgent, type PilotAgent, type PodInfo } from './pilot-agent.js';
import { refusals } from './refusals.js';
import { agentSteps, notRun, runSteps, type Step } from './steps.js';
import { createWorkload, meshRootConfigMap, projectedToken, type Workload } from './workload.js';

/** A headline (`N/M text (step names)`) and one line per step. */
function score(text: string, results: Step[]): string[] {
  const passed = results.filter((s) => s.ok).length;
  return [
    `${passed}/${results.length} ${text} (${results.map((s) => s.name).join(', ')})`,
    ...results.map((s) => `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.detail}`),
  ];
}

async function main(): Promise<number> {
  const bin = process.env.MESHD_PEERS_BIN;
  const agentBin = bin ? join(bin, 'pilot-agent') : '';
  if (!agentBin || !existsSync(agentBin)) {
    console.error(
      `cannot run: no pilot-agent in MESHD_PEERS_BIN (${bin ?? 'unset'}); run with \`npm run conformance:agent\``,
    );
    return 2;
  }
  const hostPathsBefore = new Set(HOST_PATHS.filter((p) => existsSync(p)));
  const w: Workload = {
    namespace: 'apps',
    pod: 'echo-0',
    serviceAccount: 'echo',
    service: 'echo',
    servicePort: 7070,
    ip: podIp(),
    labels: { app: 'echo', version: 'v1' },
  };
  let cluster: Cluster | undefined;
  let meshd: MeshdProcess | undefined;
  let agent: PilotAgent | undefined;
  let backend: Backend | undefined;
  let lines: string[];
  const started = Date.now();
  try {
    let pod: PodInfo;
    let foreignToken: string;
    try {
      cluster = await startCluster();
      const core = cluster.kc.makeApiClient(CoreV1Api);
      installIstioCrds(cluster.kubeconfig);
      await core.createNamespace({ body: { metadata: { name: 'istio-system' } } });
      backend = await startBackend('v1', 0, undefined, undefined, w.ip);
      const uid = await createWorkload(core, cluster.kc.makeApiClient(CustomObjectsApi), w, backend.port);
      meshd = await startMeshd(['--kubeconfig', cluster.kubeconfig, '--shutdown-delay', '0'], {
        ENABLE_LEADER_ELECTION: 'false',
      });
      const rootCert = await meshRootConfigMap(core, w.namespace);
      pod = {
        name: w.pod,
        namespace: w.namespace,
        serviceAccount: w.serviceAccount,
        ip: w.ip,
        labels: w.labels,
        token: await projectedToken(core, w, uid),
        rootCert,
      };
      foreignToken = await projectedToken(core, w, uid, 'https://kubernetes.default.svc.cluster.local');
      agent = await startPilotAgent(agentBin, pod, meshd.xdsTlsPort);
    } catch (e) {
      console.error(`cannot run: the setup failed: ${(e as Error).stack}`);
      return 2;
    }
    const steps = await runSteps(agentSteps(agent, meshd, w, backend), true);
    const controls = refusals({ agentBin, meshdTlsPort: meshd.xdsTlsPort, workload: w, pod, foreignToken, agent });
    // A refusal means something only beside an agent that works.
    const refused = steps.every((s) => s.ok)
      ? await runSteps(controls, false)
      : notRun(controls, 'the agent steps failed');
    if ([...steps, ...refused].some((s) => !s.ok))
      console.error(
        `pilot-agent log (tail):\n${agent.logs().slice(-4000)}\nmeshd log (tail):\n${meshd.logs().slice(-4000)}`,
      );
    lines = [
      ...score('pilot-agent steps succeed', steps),
      ...score('refusals hold against a real pilot-agent', refused),
    ];
  } finally {
    await agent?.close();
    await meshd?.close();
    backend?.server.forceShutdown();
    await cluster?.stop();
  }
  for (const l of lines) console.log(l);
  console.log(`run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const leaked = HOST_PATHS.filter((p) => existsSync(p) && !hostPathsBefore.has(p));
  const problems = [...ratchet('agent', lines), ...leaked.map((p) => `the run left ${p} behind`)];
  for (const p of problems) console.error(p);
  return problems.length ? 1 : 0;
}

process.exitCode = await main();
process.exit();
