// A client of meshd's certificate service on the secure port, the way istio-agent calls it: TLS that
// trusts meshd's roots for istiod.<ns>.svc, the token as `authorization: Bearer`, a CSR and a TTL.
import * as grpc from '@grpc/grpc-js';
import { CertificateService } from '../../src/ca/certificate-service.js';

export interface CaResult {
  chain?: string[];
  code?: number;
  details?: string;
}

export function caClient(port: number, rootsPem: string): { create(csr: string, ttlSeconds: number, token?: string, metadata?: object): Promise<CaResult>; close(): void } {
  const client = new CertificateService(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(rootsPem)), { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' }) as unknown as grpc.Client & {
    CreateCertificate(req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: { cert_chain: string[] }) => void): void;
  };
  return {
    create: (csr, ttlSeconds, token, metadata) =>
      new Promise((resolve) => {
        const md = new grpc.Metadata();
        if (token !== undefined) md.set('authorization', `Bearer ${token}`);
        client.CreateCertificate({ csr, validity_duration: ttlSeconds, metadata }, md, (err, res) => resolve(err ? { code: err.code, details: err.details } : { chain: res!.cert_chain }));
      }),
    close: () => client.close(),
  };
}
