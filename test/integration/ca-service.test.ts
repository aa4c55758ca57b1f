// The certificate service over real gRPC/TLS in `meshd serve` without a cluster: only on the secure port,
// and with no API server to review tokens every request is refused as unauthenticated.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CertificateService } from '../../src/ca/certificate-service.js';
import { caClient } from '../helpers/ca-client.js';
import { makeCsr } from '../helpers/csr.js';
import { startMeshd, type MeshdProcess } from '../helpers/meshd-process.js';

let m: MeshdProcess;

before(async () => {
  m = await startMeshd([]);
});
after(async () => m.close());

describe('certificate service in local mode', () => {
  it('refuses every request as unauthenticated, and counts it', async () => {
    const c = caClient(m.xdsTlsPort, readFileSync(m.caFile, 'utf8'));
    try {
      for (const token of [undefined, 'a.b.c']) {
        const r = await c.create(makeCsr().csrPem, 3600, token);
        assert.equal(r.code, grpc.status.UNAUTHENTICATED);
        assert.equal(r.details, 'request authenticate failure');
      }
    } finally {
      c.close();
    }
    assert.match(await (await fetch(`http://127.0.0.1:${m.monitoringPort}/metrics`)).text(), /^citadel_server_authentication_failure_count 2/m);
  });

  it('is not offered on the plain-text port', async () => {
    const plain = new CertificateService(`127.0.0.1:${m.xdsPort}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & { CreateCertificate(req: object, cb: (err: grpc.ServiceError | null) => void): void };
    const err = await new Promise<grpc.ServiceError | null>((resolve) => plain.CreateCertificate({ csr: 'x' }, resolve));
    plain.close();
    assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
  });
});
