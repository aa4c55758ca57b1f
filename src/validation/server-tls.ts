// Server-side TLS and listener address rules shared by Gateway and Sidecar ingress (istio
// validateTLSOptions, ValidateUnixAddress, protocol classes).
import { present, Report, list, obj, str, type Obj } from './core.js';
import { enumValue, u32 } from './decode.js';

const SERVER_TLS_MODES = ['PASSTHROUGH', 'SIMPLE', 'MUTUAL', 'AUTO_PASSTHROUGH', 'ISTIO_MUTUAL', 'OPTIONAL_MUTUAL'] as const;
const TLS_VERSIONS = ['TLS_AUTO', 'TLSV1_0', 'TLSV1_1', 'TLSV1_2', 'TLSV1_3'] as const;
const CIPHERS = new Set([
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA', 'AES128-GCM-SHA256', 'AES256-GCM-SHA384', 'AES128-SHA', 'AES256-SHA', 'DES-CBC3-SHA',
]);

export function serverTLSMode(tls: Obj): string {
  return enumValue(tls.mode, SERVER_TLS_MODES, 'istio.networking.v1alpha3.ServerTLSSettings.TLSmode') ?? 'PASSTHROUGH';
}

export const isHTTPProtocol = (p: string | undefined): boolean => p !== undefined && ['HTTP', 'HTTP2', 'HTTP_PROXY', 'GRPC', 'GRPC-WEB'].includes(p);
export const isTLSProtocol = (p: string | undefined): boolean => p === 'HTTPS' || p === 'TLS';

function validCipher(cs: string): boolean {
  if (cs === '' || cs === 'ALL') return true;
  // Leading operators (-, +, !) are OpenSSL cipher-string syntax that istiod passes through unchecked.
  if (!/^[\p{L}\p{N}]/u.test(cs)) return true;
  return CIPHERS.has(cs);
}

export function unixAddressError(addr: string): string | undefined {
  if (addr.length === 0) return 'unix address must not be empty';
  if (addr.startsWith('@')) return undefined;
  return !addr.startsWith('/') || addr.endsWith('/') ? `${addr} is not an absolute path to a file` : undefined;
}

/** ServerTLSSettings (istio validateTLSOptions). */
export function serverTLS(tlsValue: unknown, r: Report): void {
  if (!present(tlsValue)) return;
  const tls = obj(tlsValue);
  const mode = serverTLSMode(tls);
  const minVersion = enumValue(tls.minProtocolVersion, TLS_VERSIONS, 'istio.networking.v1alpha3.ServerTLSSettings.TLSProtocol');
  const ciphers = list(tls.cipherSuites).map(str);
  if ((minVersion === 'TLSV1_0' || minVersion === 'TLSV1_1') && ciphers.length === 0) {
    r.warn('TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.');
  }
  const invalid = new Set<string>();
  const valid = new Set<string>();
  const dup = new Set<string>();
  for (const cs of ciphers) {
    if (!validCipher(cs)) invalid.add(cs);
    else if (valid.has(cs)) dup.add(cs);
    else valid.add(cs);
  }
  if (invalid.size > 0) r.warn(`ignoring invalid cipher suites: [${[...invalid].sort().join(' ')}]`);
  if (dup.size > 0) r.warn(`ignoring duplicate cipher suites: [${[...dup].sort().join(' ')}]`);
  const has = (f: string): boolean => str(tls[f]) !== '';
  const tlsCerts = list(tls.tlsCertificates);
  const credNames = list(tls.credentialNames);
  if (mode === 'ISTIO_MUTUAL') {
    if (has('serverCertificate')) r.error('ISTIO_MUTUAL TLS cannot have associated server certificate');
    if (has('privateKey')) r.error('ISTIO_MUTUAL TLS cannot have associated private key');
    if (has('caCertificates')) r.error('ISTIO_MUTUAL TLS cannot have associated CA bundle');
    if (tlsCerts.length > 0) r.error('ISTIO_MUTUAL TLS cannot have associated tlsCertificates');
    if (has('credentialName')) r.error('ISTIO_MUTUAL TLS cannot have associated credentialName');
    if (credNames.length > 0) r.error('ISTIO_MUTUAL TLS cannot have associated credentialNames');
    return;
  }
  if ((mode === 'PASSTHROUGH' || mode === 'AUTO_PASSTHROUGH') && (has('caCrl') || has('serverCertificate') || has('privateKey') || has('caCertificates') || tlsCerts.length > 0 || has('credentialName') || credNames.length > 0)) {
    r.warn(`${mode} mode does not use certificates, they will be ignored`);
  }
  const sources = [has('serverCertificate') && has('privateKey'), has('credentialName'), credNames.length > 0, tlsCerts.length > 0].filter(Boolean).length;
  if (sources > 1) r.error('only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified');
  const terminating = mode === 'SIMPLE' || mode === 'MUTUAL' || mode === 'OPTIONAL_MUTUAL';
  if (terminating && (has('credentialName') || credNames.length > 0)) return;
  if (terminating) {
    const prefix = mode === 'SIMPLE' ? 'SIMPLE TLS' : 'MUTUAL TLS';
    if (prefix === 'MUTUAL TLS' && !has('caCertificates')) r.error(`${prefix} requires a client CA bundle`);
    if (tlsCerts.length > 2) r.warn(`${prefix} can support up to 2 server certificates`);
    const certs = tlsCerts.length > 0 ? tlsCerts.map(obj) : [{ serverCertificate: tls.serverCertificate, privateKey: tls.privateKey }];
    for (const c of certs) {
      if (str(c.serverCertificate) === '') r.error(`${prefix} requires a server certificate`);
      if (str(c.privateKey) === '') r.error(`${prefix} requires a private key`);
    }
  }
  if (has('caCrl')) {
    if (has('credentialName')) r.error('CRL is not supported with credentialName. CRL has to be specified in the credential');
    if (mode === 'SIMPLE') r.error('CRL is not supported with SIMPLE TLS');
  }
}

/** Go's %v of a Port message, as istiod prints it in a few messages. */
export function portText(port: Obj): string {
  const fields: string[] = [];
  if (u32(port.number) !== 0) fields.push(`number:${u32(port.number)}`);
  if (str(port.protocol) !== '') fields.push(`protocol:"${str(port.protocol)}"`);
  if (str(port.name) !== '') fields.push(`name:"${str(port.name)}"`);
  if (u32(port.targetPort) !== 0) fields.push(`target_port:${u32(port.targetPort)}`);
  return fields.join(' ');
}
