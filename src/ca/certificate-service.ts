// istio.v1.auth.IstioCertificateService/CreateCertificate: authenticate the caller (a still-valid mesh
// certificate when renewing, else its token), sign its CSR for its own SPIFFE identities, answer with
// the chain; every failure is a gRPC status with istiod's code and wording (Unauthenticated for any
// authentication problem, InvalidArgument for CSR and TTL errors).
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from '../telemetry/logger.js';
import type { CaMetrics } from '../telemetry/metrics.js';
import { authenticate, grpcAuthRequest, type Authenticator } from '../security/authenticate.js';
import { CaError, signWorkloadCsr, type SigningCa, type WorkloadCertPolicy } from './workload.js';

export interface CertificateRequest {
  csr?: string;
  validity_duration?: number;
  metadata?: { fields?: Record<string, unknown> };
}

export interface CertificateResponse {
  cert_chain: string[];
}

const definition = protoLoader.loadSync(join(import.meta.dirname, 'istio-ca.proto'), { keepCase: true, longs: Number, defaults: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as { istio: { v1: { auth: { IstioCertificateService: grpc.ServiceClientConstructor } } } };
export const CertificateService = pkg.istio.v1.auth.IstioCertificateService;

export interface CertificateServiceOptions {
  /** Tried in order (istiod: client certificate, then Kubernetes JWT). */
  authenticators: Authenticator[];
  /** The current CA (it may rotate). */
  ca: () => SigningCa;
  policy: WorkloadCertPolicy;
  metrics: CaMetrics;
  logger: Logger;
}

const STATUS: Record<CaError['type'], grpc.status> = {
  CSR_ERROR: grpc.status.INVALID_ARGUMENT,
  TTL_ERROR: grpc.status.INVALID_ARGUMENT,
  CERT_GEN_ERROR: grpc.status.INTERNAL,
  CA_NOT_READY: grpc.status.INTERNAL,
};

export function certificateServiceImplementation(opts: CertificateServiceOptions): grpc.UntypedServiceImplementation {
  const { metrics, logger } = opts;
  const CreateCertificate = async (call: grpc.ServerUnaryCall<CertificateRequest, CertificateResponse>, callback: grpc.sendUnaryData<CertificateResponse>): Promise<void> => {
    metrics.csr.inc();
    const peer = call.getPeer();
    const denied = (reason: string, details = 'request authenticate failure'): void => {
      metrics.authFailure.inc();
      logger.warn({ peer, reason }, 'certificate request not authenticated');
      callback({ code: grpc.status.UNAUTHENTICATED, details });
    };
    let caller;
    try {
      caller = await authenticate(grpcAuthRequest(call), opts.authenticators);
    } catch (err) {
      return denied((err as Error).message);
    }
    // Acting for another identity needs istiod's node authorizer (CA_TRUSTED_NODE_ACCOUNTS), which meshd lacks.
    if (call.request.metadata?.fields?.ImpersonatedIdentity) return denied('impersonation is not allowed', 'request impersonation authentication failure');
    try {
      const { chain, ttlSeconds } = signWorkloadCsr(opts.ca(), call.request.csr ?? '', caller.identities, Number(call.request.validity_duration ?? 0), opts.policy);
      metrics.success.inc();
      logger.debug({ peer, identities: caller.identities, source: caller.source, ttlSeconds }, 'workload certificate signed');
      callback(null, { cert_chain: chain });
    } catch (err) {
      if (!(err instanceof CaError)) {
        // A defect, not the caller's fault: answered, never left as an unhandled rejection that ends the process.
        logger.error({ peer, err }, 'certificate request failed');
        return callback({ code: grpc.status.INTERNAL, details: 'internal error' });
      }
      metrics.signError.inc({ error_type: err.type.toLowerCase() });
      logger.warn({ peer, identities: caller.identities, err: err.message }, 'CSR signing error');
      callback({ code: STATUS[err.type], details: `CSR signing error (${err.message})` });
    }
  };
  return { CreateCertificate };
}
