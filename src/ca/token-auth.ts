// istiod's Kubernetes JWT authenticator (kubeauth + tokenreview.ValidateK8sJwt): the bearer token goes to
// the API server's TokenReview with TOKEN_AUDIENCES, always, legacy unbound tokens included (the API
// server then refuses a legacy token unless its implicit audiences contain one of them); the reviewed
// user must be a service account, whose SPIFFE ID is the caller's identity.
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { AuthError, spiffeUri, tokenAuthenticator, type Authenticator } from '../security/authenticate.js';
import { bounded, LimitError, type Bounds } from '../util/bounded.js';

export { AuthError };

export interface ServiceAccountUser {
  namespace: string;
  serviceAccount: string;
}

export function serviceAccountOf(username: string): ServiceAccountUser {
  const parts = username.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount' || !parts[2] || !parts[3]) {
    throw new AuthError(`${username} is not a service account`);
  }
  return { namespace: parts[2], serviceAccount: parts[3] };
}

/** The review result as istiod reads it: authenticated, in group system:serviceaccounts, a service-account username. */
export function reviewedServiceAccount(status: { authenticated?: boolean; error?: string; user?: { username?: string; groups?: string[] } } | undefined): ServiceAccountUser {
  if (status?.error) throw new AuthError(`the service account authentication returns an error: ${status.error}`);
  if (!status?.authenticated) throw new AuthError('the token is not authenticated');
  if (!status.user?.groups?.includes('system:serviceaccounts')) throw new AuthError('the token is not a service account');
  return serviceAccountOf(status.user.username ?? '');
}

/** Any caller can present a token: reviews in flight are bounded, and each is given up after a deadline. */
export const TOKEN_REVIEW_BOUNDS: Bounds = { maxInFlight: 100, timeoutMs: 5_000, what: 'TokenReview' };

/** A TokenReview function: token -> the caller's SPIFFE identities. */
export function kubeTokenReview(kc: KubeConfig, audiences: string[], trustDomain: () => string, bounds = TOKEN_REVIEW_BOUNDS): (token: string) => Promise<string[]> {
  const api = kc.makeApiClient(AuthenticationV1Api);
  const review = bounded((token: string) => api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences } } }), bounds);
  return async (token) => {
    let result;
    try {
      result = await review(token);
    } catch (err) {
      if (err instanceof LimitError) throw new AuthError(err.message);
      throw err;
    }
    const sa = reviewedServiceAccount(result.status);
    // The API docs ask reviewers to check this too: an audience-unaware authenticator returns none.
    if (!audiences.some((a) => result.status?.audiences?.includes(a))) throw new AuthError('the token is not for this audience');
    return [spiffeUri(trustDomain(), sa.namespace, sa.serviceAccount)];
  };
}

export function kubeTokenAuthenticator(kc: KubeConfig, audiences: string[], trustDomain: () => string, prefixes?: string[]): Authenticator {
  return tokenAuthenticator(kubeTokenReview(kc, audiences, trustDomain), prefixes);
}
