// One TLS policy for every port meshd serves TLS on (webhooks 15017, xDS and CA 15012): TLS 1.2 or
// newer (istiod's --tls-min-version), forward-secret AEAD suites only, and a bounded handshake so a
// client that opens a connection and stays silent cannot hold it.
import type { TlsOptions } from 'node:tls';

export type TlsMinVersion = '1.2' | '1.3';

/** ECDHE with AES-GCM or ChaCha20-Poly1305 on TLS 1.2; TLS 1.3's suites are all of that kind. */
const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Node's default is 120 s; istiod's servers give a request's headers 30 s in all. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** istiod's TLSMinVersion: only "1.2" and "1.3", with its wording for anything else. */
export function parseTlsMinVersion(v: string | undefined): TlsMinVersion {
  if (v === undefined || v === '' || v === '1.2') return '1.2';
  if (v === '1.3') return '1.3';
  throw new Error(`minimum TLS version: ${v} is not supported. Only 1.2 and 1.3 are supported`);
}

/** Context options (they also apply when a certificate is swapped in with setSecureContext). */
export function tlsContextOptions(min: TlsMinVersion = '1.2'): Pick<TlsOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'> {
  return { minVersion: min === '1.3' ? 'TLSv1.3' : 'TLSv1.2', ciphers: CIPHERS, honorCipherOrder: true };
}

/** Server constructor options: the context options and the handshake deadline. */
export function tlsServerOptions(min: TlsMinVersion = '1.2'): TlsOptions {
  return { ...tlsContextOptions(min), handshakeTimeout: HANDSHAKE_TIMEOUT_MS };
}
