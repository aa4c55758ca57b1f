// The secure port's TLS as grpc-js server credentials: meshd's TLS policy (suites, minimum version,
// handshake deadline) and a serving certificate that can be replaced without a restart. grpc-js'
// createSsl fixes the certificate and its certificate-provider credentials fix Node's default suites.
import * as grpc from '@grpc/grpc-js';
import { tlsContextOptions, tlsServerOptions, type TlsMinVersion } from '../net/tls-policy.js';

export interface ServingTls {
  cert: string;
  key: string;
  /** Roots that verify client certificates (meshd's CA). */
  roots: string;
}

export class ServingCredentials extends grpc.ServerCredentials {
  constructor(tls: ServingTls, private readonly min: TlsMinVersion = '1.2') {
    // Client certificates are requested (istio-agent presents one) but not required: CSRs and xDS may
    // authenticate by token. grpc-js exposes a peer certificate only when it verified against `ca`.
    super({ ...tlsServerOptions(min), requestCert: true, rejectUnauthorized: false }, ServingCredentials.context(tls, min));
  }

  private static context(tls: ServingTls, min: TlsMinVersion) {
    return { ...tlsContextOptions(min), ca: tls.roots, cert: tls.cert, key: tls.key };
  }

  /** New connections get `tls`; existing ones keep theirs. */
  set(tls: ServingTls): void {
    this.updateSecureContextOptions(ServingCredentials.context(tls, this.min));
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}
