// TLS on every port meshd serves it: the same forward-secret suites on 15012 as on 15017, istiod's
// --tls-min-version, a bounded handshake, and a CA file that is never written through a symlink.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { caFile } from '../../../src/cli/ca-file.js';
import { HANDSHAKE_TIMEOUT_MS } from '../../../src/net/tls-policy.js';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { scratchDir } from '../../helpers/scratch.js';

type Outcome = { ok: true; protocol: string; cipher: string } | { ok: false; error: string };

function handshake(port: number, opts: Partial<ConnectionOptions>): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost', ...opts }, () => {
      resolve({ ok: true, protocol: s.getProtocol() ?? '', cipher: s.getCipher().name });
      s.end();
    });
    s.on('error', (e) => resolve({ ok: false, error: e.message }));
  });
}

/** How long the server lets a connection that never starts its handshake stay open. */
function silentConnectionLifetime(port: number): Promise<number> {
  return new Promise((resolve) => {
    const start = Date.now();
    const s = netConnect({ host: '127.0.0.1', port });
    s.on('close', () => resolve(Date.now() - start));
    s.on('error', () => undefined);
  });
}

const WEAK = ['AES128-SHA', 'AES256-GCM-SHA384', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384'];

describe('security: TLS', () => {
  let meshd: MeshdProcess;
  let strict: MeshdProcess;
  let dir: string;
  let victim: string;
  let caOut: string;
  before(async () => {
    dir = scratchDir('meshd-sec-tls-');
    victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    caOut = join(dir, 'ca.pem');
    symlinkSync(victim, caOut);
    meshd = await startMeshd(['--ca-out', caOut]);
    strict = await startMeshd(['--tls-min-version', '1.3']);
  });
  after(async () => {
    await meshd?.close();
    await strict?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const port of ['webhook', 'xds-tls'] as const) {
    const portOf = (m: MeshdProcess): number => (port === 'webhook' ? m.webhookPort : m.xdsTlsPort);
    // gRPC refuses a client that does not offer h2, which would make every refusal below vacuous.
    const alpn = port === 'webhook' ? ['http/1.1'] : ['h2'];
    const hs = (m: MeshdProcess, opts: Partial<ConnectionOptions>): Promise<Outcome> => handshake(portOf(m), { ALPNProtocols: alpn, ...opts });

    it(`${port}: refuses TLS 1.2 suites without forward secrecy or AEAD`, async () => {
      for (const weak of WEAK) {
        const r = await hs(meshd, { maxVersion: 'TLSv1.2', ciphers: weak });
        assert.ok(!r.ok && /handshake failure|no shared cipher/.test(r.error), `${weak}: ${JSON.stringify(r)}`);
      }
      const r = await hs(meshd, { maxVersion: 'TLSv1.2' });
      assert.ok(r.ok && /^ECDHE-.*(GCM|CHACHA20)/.test(r.cipher), JSON.stringify(r));
    });

    it(`${port}: --tls-min-version 1.3 refuses TLS 1.2`, async () => {
      const old = await hs(strict, { maxVersion: 'TLSv1.2' });
      assert.ok(!old.ok && /protocol version/.test(old.error), JSON.stringify(old));
      const r = await hs(strict, {});
      assert.ok(r.ok && r.protocol === 'TLSv1.3', JSON.stringify(r));
    });

    it(`${port}: closes a connection that never sends its handshake`, async () => {
      const lived = await silentConnectionLifetime(portOf(meshd));
      assert.ok(lived < HANDSHAKE_TIMEOUT_MS + 5_000, `connection lived ${lived} ms`);
      assert.equal(meshd.child.exitCode, null);
    });
  }

  it('refuses a --tls-min-version istiod does not support, with istiod’s message', () => {
    const r = spawnSync(process.execPath, ['bin/meshd.js', 'serve', '--tls-min-version', '1.1', '--webhook-port', '0'], {
      cwd: join(import.meta.dirname, '..', '..', '..'),
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: '' },
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /minimum TLS version: 1\.1 is not supported\. Only 1\.2 and 1\.3 are supported/);
  });

  it('--ca-out replaces a symlink planted at the path instead of writing through it', () => {
    assert.equal(readFileSync(victim, 'utf8'), 'keep me\n');
    assert.ok(!lstatSync(caOut).isSymbolicLink());
    assert.match(readFileSync(caOut, 'utf8'), /BEGIN CERTIFICATE/);
  });

  it('writes re-issued roots to the same path, leaving no temporary file', () => {
    const f = caFile(join(dir, 'roots.pem'));
    f.write('first\n');
    f.write('second\n');
    assert.equal(readFileSync(f.path, 'utf8'), 'second\n');
    const unnamed = caFile(undefined);
    unnamed.write('a\n');
    unnamed.write('b\n');
    assert.equal(readFileSync(unnamed.path, 'utf8'), 'b\n');
    // remove() takes away the directory meshd chose, never a path the user named.
    unnamed.remove();
    f.remove();
    assert.ok(!existsSync(join(unnamed.path, '..')));
    assert.equal(readFileSync(f.path, 'utf8'), 'second\n');
    assert.deepEqual(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter((n) => n.endsWith('.tmp')), []);
    assert.ok(!existsSync(`${f.path}.tmp`));
  });
});
