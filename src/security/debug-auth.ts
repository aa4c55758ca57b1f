// Who may read the xDS debug views on :15014 (istiod's allowAuthenticatedOrLocalhost and
// AuthorizeDebugRequest in pilot/pkg/xds/debug.go): a loopback peer sees everything; anyone else needs
// a token (401 otherwise). With ENABLE_DEBUG_ENDPOINT_AUTH (default on) an identity of the system
// namespace (the mesh's root namespace) or of DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES sees everything,
// any other only the per-proxy views (403 for the rest), and only for proxies of its own namespace.
import { BlockList, isIP } from 'node:net';
import type { VerifiedIdentity } from '../types.js';
import { authenticate, parseSpiffeId, type Authenticator } from './authenticate.js';

export interface DebugAuthOptions {
  authenticators: Authenticator[];
  /** ENABLE_DEBUG_ENDPOINT_AUTH. */
  namespaceRules: boolean;
  systemNamespace: () => string;
  /** DEBUG_ENDPOINT_AUTH_ALLOWED_NAMESPACES. */
  allowedNamespaces: Set<string>;
}

/** What a caller gets: everything, the proxies of one namespace, or a status code. */
export type DebugAccess = { all: true } | { all: false; namespace: string } | { status: 401 | 403 };

/** Debug paths istiod opens to callers of other namespaces (its activeNamespaceDebuggers). */
export const NAMESPACE_DEBUG_PATHS = new Set(['config_dump', 'ndsz', 'edsz']);

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Loopback by the socket's address only (never a forwarded header), as Go's netip IsLoopback, IPv4-mapped included. */
export function isLoopback(address: string | undefined): boolean {
  const family = address ? isIP(address) : 0;
  return family !== 0 && LOOPBACK.check(address!, family === 4 ? 'ipv4' : 'ipv6');
}

/** The decision for authenticated identities (pure). */
export function debugDecision(
  identities: string[],
  path: string,
  opts: DebugNamespaceRules,
): DebugAccess {
  if (!opts.namespaceRules) return { all: true };
  const namespace = identities.map(parseSpiffeId).find((id) => id)?.namespace;
  if (!namespace) return { status: 403 };
  if (namespace === opts.systemNamespace() || opts.allowedNamespaces.has(namespace)) return { all: true };
  return NAMESPACE_DEBUG_PATHS.has(path.replace(/^\/debug\//, '')) ? { all: false, namespace } : { status: 403 };
}

/** The namespace rules without the authenticators: what the xDS debug types need. */
export type DebugNamespaceRules = Pick<DebugAuthOptions, 'namespaceRules' | 'systemNamespace' | 'allowedNamespaces'>;

/**
 * Who may ask the xDS debug types on an ADS stream (istiod's StatusGen): with ENABLE_DEBUG_ENDPOINT_AUTH a
 * stream without a verified identity (the plain-text port) is refused (401), the system namespace and the
 * allowed ones see every proxy, any other namespace its own proxies only. Without it, anyone sees all.
 */
export function xdsDebugScope(identity: VerifiedIdentity | undefined, opts: DebugNamespaceRules): DebugAccess {
  if (!opts.namespaceRules) return { all: true };
  if (!identity) return { status: 401 };
  const { namespace } = identity;
  return namespace === opts.systemNamespace() || opts.allowedNamespaces.has(namespace) ? { all: true } : { all: false, namespace };
}

export async function debugAccess(
  remoteAddress: string | undefined,
  authorization: string | undefined,
  path: string,
  opts: DebugAuthOptions,
): Promise<DebugAccess> {
  if (isLoopback(remoteAddress)) return { all: true };
  let identities: string[];
  try {
    identities = (await authenticate({ authorization }, opts.authenticators)).identities;
  } catch {
    return { status: 401 };
  }
  return debugDecision(identities, path, opts);
}
