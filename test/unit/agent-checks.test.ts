// The pilot-agent conformance checks (test/conformance/agent/checks.ts) pass right outputs and fail wrong ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCA } from '../../src/ca/self-signed.js';
import { checkBootstrap, checkWorkloadCert, type GrpcBootstrap } from '../conformance/agent/checks.js';
import { makeCsr } from '../helpers/csr.js';
import { workloadCert } from '../helpers/mesh-certs.js';

const ID = 'spiffe://cluster.local/ns/apps/sa/echo';

describe('agent certificate check', async () => {
  const mesh = await createCA('mesh root');
  const other = await createCA('other root');
  const leaf = workloadCert(mesh, ID);
  const files = { chainPem: `${leaf.certPem}${mesh.certPem}`, keyPem: leaf.keyPem, rootPem: mesh.certPem };

  it('accepts a leaf for the identity with its key, chaining to the mesh root', () => {
    assert.deepEqual(checkWorkloadCert(files, mesh.certPem, ID), []);
    assert.deepEqual(
      checkWorkloadCert({ ...files, chainPem: leaf.certPem }, mesh.certPem, ID),
      [],
      'a leaf signed by the root without the root in the chain',
    );
  });

  it('refuses another identity, another root, a foreign key, an expired leaf and a wrong root file', () => {
    assert.match(
      checkWorkloadCert(files, mesh.certPem, 'spiffe://cluster.local/ns/apps/sa/other').join(),
      /names \["spiffe:\/\/cluster.local\/ns\/apps\/sa\/echo"\]/,
    );
    assert.match(checkWorkloadCert(files, other.certPem, ID).join(), /does not end at meshd’s root/);
    assert.match(
      checkWorkloadCert({ ...files, keyPem: makeCsr().keyPem }, mesh.certPem, ID).join(),
      /not the leaf’s key/,
    );
    assert.match(
      checkWorkloadCert(files, mesh.certPem, ID, new Date(Date.now() + 2 * 3600_000)).join(),
      /not valid now/,
    );
    assert.match(
      checkWorkloadCert({ ...files, rootPem: other.certPem }, mesh.certPem, ID).join(),
      /root-cert.pem does not hold/,
    );
    const foreign = workloadCert(other, ID);
    assert.match(
      checkWorkloadCert({ ...files, chainPem: `${foreign.certPem}${mesh.certPem}` }, mesh.certPem, ID).join(),
      /not signed by certificate 1/,
    );
  });
});

describe('agent bootstrap check', () => {
  const want = {
    socket: '/w/etc/istio/proxy/XDS',
    nodeId: 'sidecar~10.0.0.1~p.apps~apps.svc.cluster.local',
    namespace: 'apps',
    serviceAccount: 'echo',
    certDir: '/w/data',
  };
  const good: GrpcBootstrap = {
    xds_servers: [
      {
        server_uri: 'unix:////w/etc/istio/proxy/XDS',
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: want.nodeId, metadata: { GENERATOR: 'grpc', NAMESPACE: 'apps', SERVICE_ACCOUNT: 'echo' } },
    certificate_providers: {
      default: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: '/w/data/cert-chain.pem',
          private_key_file: '/w/data/key.pem',
          ca_certificate_file: '/w/data/root-cert.pem',
        },
      },
    },
  };

  it('accepts the agent socket, the pod node and its certificate files', () => {
    assert.deepEqual(checkBootstrap(good, want), []);
  });

  it('refuses a direct control-plane address, another node, a missing generator and other certificate files', () => {
    assert.match(
      checkBootstrap({ ...good, xds_servers: [{ server_uri: '127.0.0.1:15012' }] }, want).join(),
      /not the agent's socket/,
    );
    assert.match(
      checkBootstrap(
        { ...good, node: { ...good.node, id: 'sidecar~1.1.1.1~x.apps~apps.svc.cluster.local' } },
        want,
      ).join(),
      /node.id/,
    );
    assert.match(
      checkBootstrap(
        { ...good, node: { id: want.nodeId, metadata: { NAMESPACE: 'apps', SERVICE_ACCOUNT: 'echo' } } },
        want,
      ).join(),
      /GENERATOR/,
    );
    assert.match(checkBootstrap({ ...good, certificate_providers: {} }, want).join(), /no file_watcher/);
  });
});
