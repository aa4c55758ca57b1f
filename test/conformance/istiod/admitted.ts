// The pod a webhook is really sent: the API server decodes a creation into a corev1.Pod, defaults it and
// runs its own mutating admission (ServiceAccount: the token volume; DefaultTolerationSeconds...) before
// calling webhooks, and sends that object as Go marshals it (`resources: {}` in every container...).
// istiod computes its JSONPatch against that form, so both webhooks must get it, and both patches are
// applied to it. A server-side dry run gives that object; what the API server adds after the webhooks
// (uid, creation time, resourceVersion, status, a name from generateName) is taken out again. Names are
// lower-cased (the API server refuses capitals, which a few golden inputs have).
import { request } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

type Obj = Record<string, unknown>;

/** A fixed uid for owner references, which the API server requires and a controller always sets. */
const OWNER_UID = '00000000-0000-4000-8000-000000000001';

export async function admittedPod(kc: KubeConfig, namespace: string, pod: Obj): Promise<{ pod?: Obj; error?: string }> {
  const body = structuredClone(pod);
  const meta = (body.metadata ??= {}) as Obj;
  delete meta.namespace;
  for (const ref of (meta.ownerReferences as Obj[] | undefined) ?? []) ref.uid ??= OWNER_UID;
  // Names must be RFC 1123 subdomains (lower case); a few golden inputs have a capital letter.
  for (const k of ['name', 'generateName']) if (typeof meta[k] === 'string') meta[k] = (meta[k] as string).toLowerCase();
  const generated = !meta.name;
  const server = kc.getCurrentCluster()!.server;
  const opts: Parameters<typeof request>[1] = { method: 'POST', headers: { 'content-type': 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const url = `${server}/api/v1/namespaces/${namespace}/pods?dryRun=All`;
  const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  if (reply.status !== 201 && reply.status !== 200) return { error: `dry run ${reply.status}: ${reply.text.slice(0, 400)}` };
  const out = JSON.parse(reply.text) as Obj;
  const m = out.metadata as Obj;
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields']) delete m[k];
  if (generated) delete m.name;
  delete out.status;
  return { pod: out };
}
