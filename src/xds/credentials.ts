// SDS resource names for Kubernetes credentials (Gateway and DestinationRule credentialName).

export interface CredentialName {
  namespace: string;
  name: string;
  /** `-cacert`: only the CA part (istiod's credentialName-cacert convention). */
  caOnly: boolean;
}

/** `kubernetes://name`, `kubernetes://ns/name`, and their `-cacert` forms; the namespace defaults to the proxy's. */
export function parseCredentialName(resource: string, proxyNamespace: string): CredentialName | undefined {
  const m = /^kubernetes:\/\/(?:([^/]+)\/)?([^/]+)$/.exec(resource);
  if (!m) return undefined;
  const caOnly = m[2]!.endsWith('-cacert');
  return { namespace: m[1] ?? proxyNamespace, name: caOnly ? m[2]!.slice(0, -'-cacert'.length) : m[2]!, caOnly };
}
