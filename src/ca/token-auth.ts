// Who is asking for a certificate: istiod's Kubernetes JWT authenticator. The bearer token goes to the
// API server's TokenReview with the CA's audiences (istio-ca); a legacy, unbound service-account token
// has no audience and is reviewed without one, as istiod does unless third-party tokens are required.
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface Caller {
  namespace: string;
  serviceAccount: string;
  /** SPIFFE IDs the caller may hold. */
  identities: string[];
}

export class AuthError extends Error {}

export type Authenticator = (token: string) => Promise<Caller>;

/** The JWT's claims, unverified (the API server verifies; this only picks the review's audiences). */
function claims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Legacy Secret-based tokens carry issuer kubernetes/serviceaccount and no audience. */
export const isUnboundToken = (jwt: string): boolean => claims(jwt).iss === 'kubernetes/serviceaccount';

/** `Bearer <token>` from the request metadata, as istio-agent sends it. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '');
  return m?.[1];
}

export function callerFromUsername(username: string, trustDomain: string): Caller {
  const parts = username.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount' || !parts[2] || !parts[3]) {
    throw new AuthError(`${username} is not a service account`);
  }
  const [, , namespace, serviceAccount] = parts as [string, string, string, string];
  return { namespace, serviceAccount, identities: [`spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`] };
}

export function kubeTokenAuthenticator(kc: KubeConfig, audiences: string[], trustDomain: () => string): Authenticator {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token) => {
    const review = await api.createTokenReview({
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(isUnboundToken(token) ? {} : { audiences }) } },
    });
    const status = review.status;
    if (!status?.authenticated) throw new AuthError(status?.error || 'the token is not authenticated');
    if (!isUnboundToken(token) && !audiences.some((a) => status.audiences?.includes(a))) throw new AuthError('the token is not for this audience');
    return callerFromUsername(status.user?.username ?? '', trustDomain());
  };
}

/** Local mode has no API server to review tokens: every request is refused. */
export const noAuthenticator: Authenticator = async () => {
  throw new AuthError('no Kubernetes API server to review tokens (local mode)');
};
