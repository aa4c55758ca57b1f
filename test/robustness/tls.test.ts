// TLS of a running meshd: TLS 1.2 at least, forward-secret AEAD ciphers only, and a certificate given as files
// replaced in place is served to new connections without a restart.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createCA, createServingCert } from '../../src/ca/self-signed.js';
import { startMeshd, waitFor, type MeshdProcess } from '../helpers/meshd-process.js';
import { scratchDir } from '../helpers/scratch.js';

let meshd: MeshdProcess;
let dir: string;

async function writeServing(ca: Awaited<ReturnType<typeof createCA>>): Promise<string> {
  const leaf = await createServingCert(ca, ['localhost'], ['127.0.0.1']);
  // Written aside and renamed in, as a Secret volume update does (no half-written file is ever read).
  for (const [name, content] of [['tls.crt', leaf.certPem + ca.certPem], ['tls.key', leaf.keyPem]] as const) {
    writeFileSync(join(dir, `${name}.tmp`), content);
    renameSync(join(dir, `${name}.tmp`), join(dir, name));
  }
  return new X509Certificate(leaf.certPem).fingerprint256;
}

function handshake(opts: Partial<ConnectionOptions>): Promise<{ ok: true; protocol: string; cipher: string; fingerprint: string } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: meshd.webhookPort, rejectUnauthorized: false, servername: 'localhost', ...opts }, () => {
      resolve({ ok: true, protocol: s.getProtocol() ?? '', cipher: s.getCipher().name, fingerprint: s.getPeerX509Certificate()!.fingerprint256 });
      s.end();
    });
    s.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

before(async () => {
  dir = scratchDir('meshd-tls-');
  await writeServing(await createCA('first'));
  meshd = await startMeshd(['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key')]);
});
after(async () => meshd?.close());

describe('TLS', () => {
  it('refuses TLS 1.1 and below, accepts 1.2 and 1.3', async () => {
    const old = await handshake({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(old.ok, false);
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const r = await handshake({ minVersion: v, maxVersion: v });
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.protocol, v);
    }
  });

  it('offers only forward-secret AEAD ciphers on TLS 1.2', async () => {
    for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
      assert.equal((await handshake({ maxVersion: 'TLSv1.2', ciphers: weak })).ok, false, weak);
    }
    const r = await handshake({ maxVersion: 'TLSv1.2' });
    assert.ok(r.ok && /^ECDHE-.*(GCM|CHACHA20)/.test(r.cipher), JSON.stringify(r));
  });

  it('serves a replaced certificate to new connections without a restart', async () => {
    const before = await handshake({});
    assert.ok(before.ok);
    const next = await writeServing(await createCA('second'));
    assert.notEqual(next, before.fingerprint);
    await waitFor('the new certificate', async () => {
      const r = await handshake({});
      return r.ok && r.fingerprint === next ? true : undefined;
    }, 10_000, () => meshd.logs());
    assert.equal(meshd.child.exitCode, null);
  });
});
