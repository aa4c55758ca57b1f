// The four steps of the agent run, each needing the one before: the workload certificate the agent got
// from meshd (its OUTPUT_CERTS files), the gRPC bootstrap it wrote, an ADS stream through its xDS proxy
// socket, and an RPC by a real @grpc/grpc-js-xds client that reads the bootstrap from GRPC_XDS_BOOTSTRAP.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as xds from '@grpc/grpc-js-xds';
import { TYPE } from '../../../src/xds/protos.js';
import { AdsClient, decoded, node } from '../../helpers/ads-client.js';
import { call, EchoClient, type Backend, type Echo } from '../../helpers/echo.js';
import { waitFor, type MeshdProcess } from '../../helpers/meshd-process.js';
import { checkBootstrap, checkWorkloadCert, type GrpcBootstrap } from './checks.js';
import type { PilotAgent } from './pilot-agent.js';
import { serviceHost, type Workload } from './workload.js';

export interface Step {
  name: string;
  ok: boolean;
  detail: string;
}

export type StepBody = () => Promise<string>;

/** A step fails by throwing; when `chained`, the steps after a failed one are not run (each needs the one before). */
export async function runSteps(steps: Array<[string, StepBody]>, chained: boolean): Promise<Step[]> {
  const out: Step[] = [];
  for (const [name, body] of steps) {
    const failed = chained && out.find((s) => !s.ok);
    if (failed) {
      out.push({ name, ok: false, detail: `not run: step "${failed.name}" failed` });
      continue;
    }
    const start = Date.now();
    try {
      const detail = await body();
      out.push({ name, ok: true, detail: `${detail} (${Date.now() - start} ms)` });
    } catch (e) {
      out.push({ name, ok: false, detail: (e as Error).message.split('\n')[0]! });
    }
  }
  return out;
}

/** The steps as failed, with `reason`, when they cannot be run. */
export const notRun = (steps: Array<[string, StepBody]>, reason: string): Step[] =>
  steps.map(([name]) => ({ name, ok: false, detail: `not run: ${reason}` }));

export const readIfThere = (f: string): string | undefined => (existsSync(f) ? readFileSync(f, 'utf8') : undefined);

export function agentSteps(
  agent: PilotAgent,
  meshd: MeshdProcess,
  w: Workload,
  backend: Backend,
): Array<[string, StepBody]> {
  const identity = `spiffe://cluster.local/ns/${w.namespace}/sa/${w.serviceAccount}`;
  const nodeId = `sidecar~${w.ip}~${w.pod}.${w.namespace}~${w.namespace}.svc.cluster.local`;
  const host = serviceHost(w);
  const { paths } = agent;
  /** Paths as the pod would see them (the run's scratch directory stands in for its root). */
  const inPod = (p: string): string => p.replace(paths.root, '<pod>');
  let bootstrap: GrpcBootstrap = {};
  return [
    [
      'certificate',
      async () => {
        const files = await waitFor(
          'the agent to write its certificate files',
          () => {
            const fail = agent.exited();
            if (fail) throw new Error(fail);
            const [chainPem, keyPem, rootPem] = ['cert-chain.pem', 'key.pem', 'root-cert.pem'].map((f) =>
              readIfThere(join(paths.certDir, f)),
            );
            return chainPem && keyPem && rootPem ? { chainPem, keyPem, rootPem } : undefined;
          },
          60_000,
          () => agent.logs().slice(-3000),
        );
        const problems = checkWorkloadCert(files, readFileSync(meshd.caFile, 'utf8'), identity);
        if (problems.length) throw new Error(problems.join('; '));
        return `${identity}, chaining to meshd's root, in OUTPUT_CERTS`;
      },
    ],
    [
      'bootstrap',
      async () => {
        const text = await waitFor(
          'the gRPC bootstrap',
          () => (agent.exited() ? '' : readIfThere(paths.bootstrap)),
          30_000,
        );
        if (!text) throw new Error(agent.exited());
        bootstrap = JSON.parse(text) as GrpcBootstrap;
        const problems = checkBootstrap(bootstrap, {
          socket: paths.xdsSocket,
          nodeId,
          namespace: w.namespace,
          serviceAccount: w.serviceAccount,
          certDir: paths.certDir,
        });
        if (problems.length) throw new Error(problems.join('; '));
        return `node ${nodeId}, server ${inPod(bootstrap.xds_servers![0]!.server_uri!)}`;
      },
    ],
    [
      'xDS proxy',
      async () => {
        // What a gRPC client sends first, on the socket the bootstrap names: LDS for the Service's name.
        const ads = new AdsClient(bootstrap.xds_servers![0]!.server_uri!);
        const s = ads.sotw();
        try {
          s.send({
            node: node(bootstrap.node!.id!, bootstrap.node!.metadata ?? {}),
            type_url: TYPE.listener,
            resource_names: [host],
          });
          const r = await s.next(15_000);
          if (!r)
            throw new Error(`no LDS response through the agent within 15 s${s.error ? ` (${s.error.message})` : ''}`);
          const names = decoded<{ name?: string }>(r).map((l) => l.name);
          if (!names.includes(host))
            throw new Error(`LDS through the agent answered ${JSON.stringify(names)}, not ${host}`);
          // meshd's side: a stream from the agent's node, which can only be the agent's, on the authenticated port.
          const sync = (await (await fetch(`http://127.0.0.1:${meshd.monitoringPort}/debug/syncz`)).json()) as Array<{
            proxy?: string;
          }>;
          if (!sync.some((c) => c.proxy === nodeId)) throw new Error(`meshd's /debug/syncz does not list ${nodeId}`);
          return `Listener ${host} from meshd through ${inPod(paths.xdsSocket)}`;
        } finally {
          s.close();
          ads.close();
        }
      },
    ],
    [
      'RPC',
      async () => {
        // The app container's environment in the template; grpc-js-xds reads it at its first xds:/// channel.
        process.env.GRPC_XDS_BOOTSTRAP = paths.bootstrap;
        xds.register();
        const client = new EchoClient(`xds:///${host}`, grpc.credentials.createInsecure()) as unknown as Echo;
        try {
          const before = backend.calls;
          let last = '';
          const r = await waitFor(
            'an RPC through xds:/// to succeed',
            async () => {
              const res = await call(client, {}, 3_000);
              last = res.code === undefined ? `answered by ${res.version}` : `code ${res.code}: ${res.details}`;
              return res.code === undefined ? res : undefined;
            },
            30_000,
            () => last,
          ).catch(() => undefined);
          if (!r) throw new Error(`xds:///${host} did not answer: last ${last}`);
          if (r.version !== backend.version || backend.calls <= before)
            throw new Error(`the answer (${r.version}) did not come from the echo server`);
          return `xds:///${host} -> ${w.ip}:${backend.port} answered by ${r.version} in ${r.ms} ms`;
        } finally {
          client.close();
        }
      },
    ],
  ];
}
