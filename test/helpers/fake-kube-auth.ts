// A stand-in for the API server's TokenReview and SubjectAccessReview on 127.0.0.1, with the API
// server's audience rules: a bound token carries its audiences; a legacy (Secret-based) token has the
// server's implicit audiences only; a review that names audiences fails unless one of them matches.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeToken {
  namespace: string;
  serviceAccount: string;
  /** 'legacy': an unbound Secret token (issuer kubernetes/serviceaccount, no audience). */
  audiences: string[] | 'legacy';
}

export interface FakeKubeAuth {
  kc: KubeConfig;
  tokens: Map<string, FakeToken>;
  /** `ns/sa` pairs that may list secrets in their own namespace. */
  canListSecrets: Set<string>;
  tokenReviews: Array<{ token: string; audiences?: string[] }>;
  accessReviews: Array<{ user: string; namespace?: string; verb?: string; resource?: string }>;
  close(): Promise<void>;
}

const IMPLICIT_AUDIENCES = ['https://kubernetes.default.svc.cluster.local'];

const body = async (req: IncomingMessage): Promise<Record<string, any>> => {
  let s = '';
  for await (const chunk of req) s += chunk;
  return JSON.parse(s) as Record<string, any>;
};

export async function startFakeKubeAuth(): Promise<FakeKubeAuth> {
  const tokens = new Map<string, FakeToken>();
  const canListSecrets = new Set<string>();
  const tokenReviews: FakeKubeAuth['tokenReviews'] = [];
  const accessReviews: FakeKubeAuth['accessReviews'] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const b = await body(req);
      const reply = (status: object): void => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...b, status }));
      };
      if (req.url?.startsWith('/apis/authentication.k8s.io/v1/tokenreviews')) {
        const spec = b.spec as { token: string; audiences?: string[] };
        tokenReviews.push({ token: spec.token, audiences: spec.audiences });
        const t = tokens.get(spec.token);
        if (!t) return reply({ authenticated: false, error: 'invalid bearer token' });
        const held = t.audiences === 'legacy' ? IMPLICIT_AUDIENCES : t.audiences;
        const wanted = spec.audiences?.length ? spec.audiences : held;
        const audiences = held.filter((a) => wanted.includes(a));
        if (!audiences.length) return reply({ authenticated: false, error: 'token audiences are invalid for the target audiences' });
        const user = { username: `system:serviceaccount:${t.namespace}:${t.serviceAccount}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${t.namespace}`, 'system:authenticated'] };
        return reply({ authenticated: true, user, audiences });
      }
      if (req.url?.startsWith('/apis/authorization.k8s.io/v1/subjectaccessreviews')) {
        const spec = b.spec as { user: string; resourceAttributes?: { namespace?: string; verb?: string; resource?: string } };
        const ra = spec.resourceAttributes ?? {};
        accessReviews.push({ user: spec.user, ...ra });
        const [, , ns, sa] = spec.user.split(':');
        const allowed = ra.verb === 'list' && ra.resource === 'secrets' && ra.namespace === ns && canListSecrets.has(`${ns}/${sa}`);
        return reply(allowed ? { allowed: true } : { allowed: false, reason: 'no RBAC policy matched' });
      }
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'meshd', token: 'meshd-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'meshd' }],
    currentContext: 'fake',
  });
  return {
    kc,
    tokens,
    canListSecrets,
    tokenReviews,
    accessReviews,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
