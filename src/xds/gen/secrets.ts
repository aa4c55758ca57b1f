// SDS from istiod: `kubernetes://` credentials (Gateway and DestinationRule credentialName) as Envoy
// Secrets. A proxy reads credentials of its own namespace only. Workload certificates (`default`,
// `ROOTCA`) are not here: istio-agent serves those from the CA, and proxyless gRPC reads files.
import type { ProxyInfo } from '../../types.js';
import { parseCredentialName } from '../credentials.js';
import type { PushContext } from '../push-context.js';
import type { Msg } from './common.js';

const inline = (pem: string): Msg => ({ inline_bytes: Buffer.from(pem) });

export function generateSecret(ctx: PushContext, proxy: ProxyInfo, name: string): Msg | undefined {
  const ref = parseCredentialName(name, proxy.namespace);
  if (!ref || ref.namespace !== proxy.namespace) return undefined;
  const cred = ctx.credentials.get(`${ref.namespace}/${ref.name}`);
  if (!cred) return undefined;
  if (ref.caOnly) return cred.ca ? { name, validation_context: { trusted_ca: inline(cred.ca) } } : undefined;
  return cred.cert && cred.key ? { name, tls_certificate: { certificate_chain: inline(cred.cert), private_key: inline(cred.key) } } : undefined;
}
