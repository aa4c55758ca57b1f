// Workload certificates as meshd's CA issues them (a CSR signed for a SPIFFE ID), and gRPC channel
// credentials that present one, as istio-agent does on 15012.
import * as grpc from '@grpc/grpc-js';
import type { KeyPairPem } from '../../src/ca/self-signed.js';
import { signWorkloadCsr } from '../../src/ca/workload.js';
import { makeCsr } from './csr.js';

export function workloadCert(ca: KeyPairPem, identity: string, ttlSeconds = 3600): KeyPairPem {
  const { csrPem, keyPem } = makeCsr([identity]);
  const { chain } = signWorkloadCsr({ signer: ca, chainPem: ca.certPem, rootsPem: ca.certPem }, csrPem, [identity], ttlSeconds);
  return { certPem: chain[0]!, keyPem };
}

/** TLS trusting `rootsPem`, presenting `cert` when given. */
export function meshCredentials(rootsPem: string, cert?: KeyPairPem): grpc.ChannelCredentials {
  return cert ? grpc.credentials.createSsl(Buffer.from(rootsPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem)) : grpc.credentials.createSsl(Buffer.from(rootsPem));
}

/** Channel options for meshd's serving certificate (istiod.istio-system.svc). */
export const ISTIOD_NAME = { 'grpc.ssl_target_name_override': 'istiod.istio-system.svc' };

/** Call credentials sending `authorization: Bearer <token>`, as istio-agent does. */
export function bearer(token: string): grpc.CallCredentials {
  return grpc.credentials.createFromMetadataGenerator((_, cb) => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    cb(null, md);
  });
}
