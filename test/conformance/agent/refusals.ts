// What meshd must refuse to a real pilot-agent (issue 12's rules: an identity comes from the token or a
// certificate meshd signed, never from what the node claims): an agent whose token is for another audience
// gets no certificate; an agent claiming another service account (SERVICE_ACCOUNT) than its token's gets
// no certificate for it; a client of a working agent whose node claims another service account or
// namespace gets no xDS. Each refusal must be seen (the agent's log shows meshd's status code, or the
// stream ends with it), not merely the absence of an answer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { TYPE } from '../../../src/xds/protos.js';
import { AdsClient, node } from '../../helpers/ads-client.js';
import { waitFor } from '../../helpers/meshd-process.js';
import type { GrpcBootstrap } from './checks.js';
import { startPilotAgent, type PilotAgent, type PodInfo } from './pilot-agent.js';
import type { StepBody } from './steps.js';
import { OTHER_ACCOUNT, serviceHost, type Workload } from './workload.js';

export interface RefusalContext {
  agentBin: string;
  meshdTlsPort: number;
  workload: Workload;
  /** The good agent's pod (its token is for istio-ca and its own account). */
  pod: PodInfo;
  /** A token of the pod's account for another audience. */
  foreignToken: string;
  /** The working agent, whose socket the xDS refusals go through. */
  agent: PilotAgent;
}

/** Runs an agent for `pod` until its log shows meshd answering `code`; it must write no certificate. */
async function refusedAgent(ctx: RefusalContext, pod: PodInfo, code: string): Promise<string> {
  const agent = await startPilotAgent(ctx.agentBin, pod, ctx.meshdTlsPort);
  try {
    const line = await waitFor(
      `the agent's CSR to be refused with ${code}`,
      () => {
        if (agent.exited()) throw new Error(agent.exited());
        return agent
          .logs()
          .split('\n')
          .find((l) => l.includes('create certificate') && l.includes(`code = ${code}`));
      },
      20_000,
      () => agent.logs().slice(-1500),
    ).catch((e: Error) => {
      throw new Error(e.message.split('\n')[0]);
    });
    if (existsSync(join(agent.paths.certDir, 'cert-chain.pem'))) throw new Error('the agent wrote a certificate');
    return line.replace(/^.*?(create certificate)/, '$1');
  } finally {
    await agent.close();
  }
}

/** An ADS stream through the working agent, its node changed by `claim`: meshd must end it with PERMISSION_DENIED. */
async function refusedStream(
  ctx: RefusalContext,
  claim: (id: string, meta: Record<string, unknown>) => [string, Record<string, unknown>],
): Promise<string> {
  const bootstrap = JSON.parse(readFileSync(ctx.agent.paths.bootstrap, 'utf8')) as GrpcBootstrap;
  const [id, meta] = claim(bootstrap.node!.id!, { ...bootstrap.node!.metadata });
  const ads = new AdsClient(bootstrap.xds_servers![0]!.server_uri!);
  const s = ads.sotw();
  try {
    s.send({ node: node(id, meta), type_url: TYPE.listener, resource_names: [serviceHost(ctx.workload)] });
    const r = await Promise.race([s.next(10_000), s.failure().then(() => undefined)]);
    if (r) throw new Error(`meshd answered (${r.resources.length} resources)`);
    if (s.error?.code !== grpc.status.PERMISSION_DENIED) {
      const got = s.error ? `${s.error.code} ${s.error.details}` : 'still open';
      throw new Error(`the stream did not end with PERMISSION_DENIED (${got})`);
    }
    return `PERMISSION_DENIED: ${s.error.details}`;
  } finally {
    s.close();
    ads.close();
  }
}

export function refusals(ctx: RefusalContext): Array<[string, StepBody]> {
  const ns = ctx.workload.namespace;
  return [
    ['token for another audience', () => refusedAgent(ctx, { ...ctx.pod, token: ctx.foreignToken }, 'Unauthenticated')],
    [
      `CSR for a claimed service account (${OTHER_ACCOUNT})`,
      () => refusedAgent(ctx, { ...ctx.pod, serviceAccount: OTHER_ACCOUNT }, 'InvalidArgument'),
    ],
    [
      'xDS node claiming another service account',
      () => refusedStream(ctx, (id, meta) => [id, { ...meta, SERVICE_ACCOUNT: OTHER_ACCOUNT }]),
    ],
    [
      'xDS node claiming another namespace',
      () => refusedStream(ctx, (id, meta) => [id.replaceAll(ns, 'kube-system'), { ...meta, NAMESPACE: 'kube-system' }]),
    ],
  ];
}
