// Who is calling, as istiod's security.Authenticate decides it for xDS, the CA and the debug endpoints:
// each authenticator in turn (a client certificate signed by meshd's CA, then a Kubernetes token), the
// first that yields identities wins, and when none does the caller gets one generic failure.
import { X509Certificate } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { splitPem } from '../ca/self-signed.js';

/** What a caller presents: the `authorization` value and, over TLS, the verified peer certificate (DER). */
export interface AuthRequest {
  authorization?: string;
  peerCertificate?: Buffer;
}

export interface Caller {
  /** SPIFFE IDs (or other URI SANs) the caller holds. */
  identities: string[];
  source: 'token' | 'certificate';
}

export class AuthError extends Error {}

export interface Authenticator {
  readonly name: string;
  authenticate(req: AuthRequest): Promise<Caller>;
}

export interface SpiffeId {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

/** `spiffe://<td>/ns/<ns>/sa/<sa>` (istiod's spiffe.ParseIdentity), else undefined. */
export function parseSpiffeId(id: string): SpiffeId | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(id);
  return m ? { trustDomain: m[1]!, namespace: m[2]!, serviceAccount: m[3]! } : undefined;
}

export const spiffeUri = (trustDomain: string, namespace: string, serviceAccount: string): string =>
  `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

/** `Bearer <token>` (and, over HTTP, istiod's `Istio <token>`). */
export function bearerToken(authorization: string | undefined, prefixes = ['bearer']): string | undefined {
  const m = /^(\S+)\s+(\S+)$/.exec(authorization?.trim() ?? '');
  return m && prefixes.includes(m[1]!.toLowerCase()) ? m[2] : undefined;
}

/** The request of a gRPC call: its metadata and the peer certificate grpc-js reports for an authorized TLS socket. */
export function grpcAuthRequest(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>): AuthRequest {
  const authorization = call.metadata.get('authorization')[0]?.toString();
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  return { authorization, peerCertificate: raw && raw.length ? raw : undefined };
}

/**
 * Node prints SANs as `URI:a, DNS:b`, quoting (JSON) any value with a comma, quote or other special
 * character; this reads them back without splitting inside a quoted value.
 */
export function uriSans(subjectAltName: string | undefined): string[] {
  const out: string[] = [];
  let s = subjectAltName ?? '';
  while (s.length) {
    const m = /^([A-Za-z ]+):/.exec(s);
    if (!m) break;
    s = s.slice(m[0].length);
    let value: string;
    if (s.startsWith('"')) {
      const end = /^"(?:[^"\\]|\\.)*"/.exec(s);
      if (!end) break;
      value = JSON.parse(end[0]) as string;
      s = s.slice(end[0].length);
    } else {
      const comma = s.indexOf(', ');
      value = comma < 0 ? s : s.slice(0, comma);
      s = comma < 0 ? '' : s.slice(comma);
    }
    if (m[1] === 'URI') out.push(value);
    s = s.replace(/^, /, '');
  }
  return out;
}

/**
 * istiod's ClientCertAuthenticator: a still-valid, non-CA certificate issued by one of meshd's CA
 * certificates authenticates its URI SANs. grpc-js only reports a certificate its TLS socket verified;
 * the issuer is checked again here so that only meshd's own CA (not whatever the TLS layer trusts,
 * e.g. an operator's --tls-cert bundle) vouches for mesh identities.
 */
export function clientCertAuthenticator(caCertificates: () => string, now = (): Date => new Date()): Authenticator {
  let cachedPem = '';
  let issuers: X509Certificate[] = [];
  const trusted = (): X509Certificate[] => {
    const pem = caCertificates();
    if (pem !== cachedPem) {
      cachedPem = pem;
      issuers = splitPem(pem).map((c) => new X509Certificate(c));
    }
    return issuers;
  };
  return {
    name: 'ClientCertAuthenticator',
    authenticate: async ({ peerCertificate }) => {
      if (!peerCertificate) throw new AuthError('no client certificate is presented');
      let leaf: X509Certificate;
      try {
        leaf = new X509Certificate(peerCertificate);
      } catch {
        throw new AuthError('the client certificate does not parse');
      }
      const t = now().getTime();
      if (leaf.ca) throw new AuthError('the client certificate is a CA certificate');
      const valid = t >= new Date(leaf.validFrom).getTime() && t <= new Date(leaf.validTo).getTime();
      if (!valid) throw new AuthError('the client certificate is not valid now');
      const signed = trusted().some((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
      if (!signed) throw new AuthError('the client certificate is not signed by the mesh CA');
      const identities = uriSans(leaf.subjectAltName);
      if (!identities.length) throw new AuthError('the client certificate has no URI SAN');
      return { identities, source: 'certificate' };
    },
  };
}

/** A bearer token from the request, reviewed by `review` (the Kubernetes TokenReview in cluster mode). */
export function tokenAuthenticator(review: (token: string) => Promise<string[]>, prefixes = ['bearer']): Authenticator {
  return {
    name: 'KubeJWTAuthenticator',
    authenticate: async ({ authorization }) => {
      if (!authorization) throw new AuthError('no HTTP authorization header exists');
      const token = bearerToken(authorization, prefixes);
      if (!token) throw new AuthError('no bearer token exists in HTTP authorization header');
      return { identities: await review(token), source: 'token' };
    },
  };
}

/** The first authenticator that gives identities wins; otherwise an AuthError listing why each failed. */
export async function authenticate(req: AuthRequest, authenticators: Authenticator[]): Promise<Caller> {
  const failures: string[] = [];
  for (const a of authenticators) {
    try {
      const caller = await a.authenticate(req);
      if (caller.identities.length) return caller;
      failures.push(`Authenticator ${a.name}: no identities`);
    } catch (err) {
      failures.push(`Authenticator ${a.name}: ${(err as Error).message}`);
    }
  }
  throw new AuthError(failures.join('; ') || 'no authenticator is configured');
}
