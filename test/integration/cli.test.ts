// The real `bin/meshd.js` as users type it: help and version, one-line usage errors (exit 2), istioctl
// kube-inject's flag names, files and YAML mistakes named with line and column, local mode that leaves
// a KUBECONFIG's cluster alone, and a taken port that ends `meshd serve` at once.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startMeshd, waitFor } from '../helpers/meshd-process.js';
import { scratchDir } from '../helpers/scratch.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ENV = { ...process.env, KUBECONFIG: '', ENABLE_NATIVE_SIDECARS: 'auto', POD_NAMESPACE: '', REVISION: '' };
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function meshd(args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/meshd.js', ...args], { cwd: ROOT, env: ENV, input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = scratchDir('meshd-cli-');
const POD = join(ROOT, 'test', 'golden', 'inject', 'classic-sidecar.yaml');
const BAD_YAML = join(dir, 'bad.yaml');
writeFileSync(BAD_YAML, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n    labels: {}\n');
const VALUES = join(dir, 'values.yaml');
writeFileSync(VALUES, 'global:\n  proxy:\n    logLevel: debug\n');
const MESH = join(dir, 'mesh.yaml');
writeFileSync(MESH, 'defaultConfig:\n  discoveryAddress: meshd.example:15012\n');
const TEMPLATE = join(dir, 'template.yaml');
writeFileSync(TEMPLATE, 'spec:\n  containers:\n  - name: istio-proxy\n    image: "bare-template:{{ .Values.global.tag }}"\n');
// A local directory whose ConfigMaps live in another namespace than istio-system.
const LOCAL = join(dir, 'local');
cpSync(join(ROOT, 'test', 'fixtures', 'local'), LOCAL, { recursive: true });
for (const f of readdirSync(LOCAL)) {
  const p = join(LOCAL, f);
  writeFileSync(p, readFileSync(p, 'utf8').replaceAll('namespace: istio-system', 'namespace: mesh-ns').replace('"logLevel": "info"', '"logLevel": "trace"'));
}

describe('meshd help, version and usage errors', () => {
  const cases: Array<{ name: string; args: string[]; status: number; stdout?: RegExp; stderr?: RegExp }> = [
    { name: 'top-level --help', args: ['--help'], status: 0, stdout: /^meshd: .*\n[^]*meshd COMMAND --help/ },
    { name: 'top-level -h', args: ['-h'], status: 0, stdout: /usage: meshd COMMAND/ },
    { name: 'help inject', args: ['help', 'inject'], status: 0, stdout: /^usage: meshd inject/ },
    { name: 'serve --help', args: ['serve', '--help'], status: 0, stdout: /^usage: meshd serve[^]*--local-dir[^]*--shutdown-delay/ },
    { name: 'serve -h with other flags', args: ['serve', '--xds-port', '1', '-h'], status: 0, stdout: /^usage: meshd serve/ },
    { name: 'inject --help', args: ['inject', '--help'], status: 0, stdout: /^usage: meshd inject[^]*--injectConfigFile[^]*--meshConfigFile/ },
    { name: 'inject -h', args: ['inject', '-h'], status: 0, stdout: /^usage: meshd inject/ },
    { name: 'validate --help', args: ['validate', '--help'], status: 0, stdout: /^usage: meshd validate/ },
    { name: 'validate -h', args: ['validate', '-h'], status: 0, stdout: /^usage: meshd validate/ },
    { name: '--version', args: ['--version'], status: 0, stdout: new RegExp(`^meshd ${VERSION.replaceAll('.', '\\.')}\n$`) },
    { name: 'version', args: ['version'], status: 0, stdout: new RegExp(`^meshd ${VERSION.replaceAll('.', '\\.')}\n$`) },
    { name: 'no command', args: [], status: 2, stderr: /usage: meshd COMMAND/ },
    { name: 'unknown command', args: ['srve'], status: 2, stderr: /^meshd: unknown command "srve" \(see 'meshd --help'\)\n$/ },
    { name: 'unknown top-level flag', args: ['--nope'], status: 2, stderr: /^meshd: unknown flag --nope/ },
    { name: 'unknown serve flag', args: ['serve', '--nope=1'], status: 2, stderr: /^meshd serve: unknown flag --nope \(see 'meshd serve --help'\)\n$/ },
    { name: 'unknown inject flag', args: ['inject', '-f', POD, '-x'], status: 2, stderr: /^meshd inject: unknown flag -x/ },
    { name: 'istioctl flag meshd lacks', args: ['inject', '-f', POD, '--kubeconfig', 'k'], status: 2, stderr: /^meshd inject: unknown flag --kubeconfig: meshd inject works offline/ },
    { name: 'unknown validate flag', args: ['validate', '--nope'], status: 2, stderr: /^meshd validate: unknown flag --nope/ },
    { name: 'flag without its value', args: ['inject', '-f'], status: 2, stderr: /^meshd inject: flag -f, --filename needs a value/ },
    { name: 'a positional argument', args: ['inject', 'pod.yaml'], status: 2, stderr: /^meshd inject: unexpected argument "pod.yaml"/ },
    { name: 'inject without -f', args: ['inject'], status: 2, stderr: /^meshd inject: needs -f FILE/ },
    { name: 'two names of one setting', args: ['inject', '-f', POD, '--mesh', 'a', '--meshConfigFile', 'b'], status: 2, stderr: /--mesh and --meshConfigFile/ },
    { name: 'shutdown delay not a duration', args: ['serve', '--shutdown-delay', '5 s'], status: 1, stderr: /^meshd serve: --shutdown-delay must be a positive duration/ },
    { name: 'port not a number', args: ['serve', '--xds-port', ''], status: 1, stderr: /^meshd serve: --xds-port must be a port number/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = meshd(c.args);
      assert.equal(r.status, c.status, r.stderr);
      if (c.stdout) assert.match(r.stdout, c.stdout);
      if (c.stderr) assert.match(r.stderr, c.stderr);
      if (c.status === 0) assert.equal(r.stderr, '');
      if (c.status !== 0 && c.args.length > 0) {
        assert.equal(r.stdout, '');
        assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      }
    });
  }
});

describe('meshd inject with istioctl kube-inject flags', () => {
  const cases: Array<{ name: string; istioctl: string[]; meshd: string[]; want: RegExp }> = [
    { name: '--valuesFile', istioctl: ['--valuesFile', VALUES], meshd: ['--values', VALUES], want: /--proxyLogLevel=debug/ },
    { name: '--meshConfigFile', istioctl: ['--meshConfigFile', MESH], meshd: ['--mesh', MESH], want: /meshd\.example:15012/ },
    { name: '--injectConfigFile with a bare template', istioctl: ['--injectConfigFile', TEMPLATE], meshd: [], want: /image: bare-template:/ },
    { name: '-i with --local-dir', istioctl: ['-i', 'mesh-ns', '--local-dir', LOCAL], meshd: ['--namespace', 'mesh-ns', '--local-dir', LOCAL], want: /--proxyLogLevel=trace/ },
    { name: '--istioNamespace=NS', istioctl: ['--istioNamespace=mesh-ns', '--local-dir', LOCAL], meshd: ['--namespace', 'mesh-ns', '--local-dir', LOCAL], want: /--proxyLogLevel=trace/ },
    { name: '-r', istioctl: ['-r', 'canary'], meshd: ['--revision', 'canary'], want: /"revision":"canary"/ },
    { name: '--filename=-', istioctl: ['--filename=-'], meshd: ['-f', POD], want: /name: istio-proxy/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const theirs = meshd(['inject', ...(c.istioctl.some((a) => a.startsWith('--filename')) ? [] : ['-f', POD]), ...c.istioctl], readFileSync(POD, 'utf8'));
      assert.equal(theirs.status, 0, theirs.stderr);
      assert.match(theirs.stdout, c.want);
      if (c.meshd.length > 0 || c.istioctl[0] === '--filename=-') {
        const ours = meshd(['inject', ...(c.meshd.includes('-f') ? [] : ['-f', POD]), ...c.meshd]);
        assert.equal(theirs.stdout, ours.stdout);
      }
    });
  }
  it('-o writes the output file', () => {
    const out = join(dir, 'out.yaml');
    const r = meshd(['inject', '-f', POD, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(readFileSync(out, 'utf8'), /name: istio-proxy/);
  });
  it('kube-inject is a name for inject', () => {
    assert.equal(meshd(['kube-inject', '-f', POD]).stdout, meshd(['inject', '-f', POD]).stdout);
  });
});

describe('missing files and YAML mistakes name the file, line and column', () => {
  const cases: Array<{ name: string; args: string[]; input?: string; want: RegExp }> = [
    { name: 'missing -f', args: ['inject', '-f', join(dir, 'nope.yaml')], want: /^meshd inject: -f \S+nope\.yaml: no such file or directory\n$/ },
    { name: 'missing --meshConfigFile', args: ['inject', '-f', POD, '--meshConfigFile', join(dir, 'nope.yaml')], want: /^meshd inject: --meshConfigFile \S+nope\.yaml: no such file or directory\n$/ },
    { name: 'missing --valuesFile', args: ['inject', '-f', POD, '--valuesFile', join(dir, 'nope.yaml')], want: /^meshd inject: --valuesFile \S+nope\.yaml: no such/ },
    { name: 'missing --injectConfigFile', args: ['inject', '-f', POD, '--injectConfigFile', join(dir, 'nope.yaml')], want: /^meshd inject: --injectConfigFile \S+: no such/ },
    { name: 'missing --local-dir', args: ['inject', '-f', POD, '--local-dir', join(dir, 'nope')], want: /^meshd inject: \S+nope: no such file or directory\n$/ },
    { name: 'missing validate -f', args: ['validate', '-f', join(dir, 'nope.yaml')], want: /^meshd validate: \S+nope\.yaml: no such file or directory\n$/ },
    { name: 'bad YAML in -f', args: ['inject', '-f', BAD_YAML], want: /^meshd inject: \S+bad\.yaml:4:9: .+\n$/ },
    { name: 'bad YAML on stdin', args: ['inject', '-f', '-'], input: 'a: [1,\nb: 2\n', want: /^meshd inject: stdin:2:\d+: .+\n$/ },
    { name: 'bad YAML in --valuesFile', args: ['inject', '-f', POD, '--valuesFile', BAD_YAML], want: /^meshd inject: \S+bad\.yaml:4:9: / },
    { name: 'bad YAML in --mesh', args: ['inject', '-f', POD, '--mesh', BAD_YAML], want: /^meshd inject: \S+bad\.yaml:4:9: / },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = meshd(c.args, c.input);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, c.want);
      assert.doesNotMatch(r.stderr, /\n\s*\n/);
    });
  }
  it('validate names the line and column of a YAML mistake', () => {
    const r = meshd(['validate', '-f', BAD_YAML]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /bad\.yaml:4:9: /);
  });
});

/** A stand-in API server on 127.0.0.1 that records every request and answers 404. */
async function recordingApiServer(): Promise<{ kubeconfig: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createHttpServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":404}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(scratchDir('meshd-kubeconfig-'), 'config');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: fake',
    `clusters: [{name: fake, cluster: {server: "${url}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: fake, user: {token: fake-token}}]',
    'contexts: [{name: fake, context: {cluster: fake, user: fake}}]', '',
  ].join('\n'));
  return { kubeconfig, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('meshd serve --local-dir is local mode', () => {
  let api: Awaited<ReturnType<typeof recordingApiServer>>;
  after(async () => api?.close());
  it('sends nothing to the cluster KUBECONFIG names', async () => {
    api = await recordingApiServer();
    const m = await startMeshd(['--local-dir', 'test/fixtures/local', '--shutdown-delay', '0'], { KUBECONFIG: api.kubeconfig });
    try {
      // Past readiness meshd has set up every watch it would ever start.
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(api.requests, []);
      assert.match(m.logs(), /KUBECONFIG is ignored/);
    } finally {
      await m.close();
    }
  });
  it('uses the cluster when --kubeconfig asks for it', async () => {
    api ??= await recordingApiServer();
    const child = spawn(process.execPath, ['bin/meshd.js', 'serve', '--local-dir', 'test/fixtures/local', '--kubeconfig', api.kubeconfig,
      '--address', '127.0.0.1', '--webhook-port', '0', '--monitoring-port', '0', '--xds-port', '0', '--xds-tls-port', '0',
      '--ca-out', join(dir, 'ca.pem')], { cwd: ROOT, env: ENV, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor('a request to the API server', () => (api.requests.length > 0 ? true : undefined), 30_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function canBind(port: number): Promise<boolean> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('meshd serve with a port already in use', () => {
  const FLAGS = ['--webhook-port', '--monitoring-port', '--xds-port', '--xds-tls-port'];
  const cases = [
    { name: 'webhook port', flag: '--webhook-port' },
    { name: 'monitoring port (after the webhook bound)', flag: '--monitoring-port' },
    { name: 'xDS TLS port (after plain xDS bound)', flag: '--xds-tls-port' },
  ];
  for (const c of cases) {
    it(`exits non-zero at once, naming the ${c.name}, with no listener left`, async () => {
      const taken: Server = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      const busy = (taken.address() as AddressInfo).port;
      try {
        const ports = new Map<string, number>();
        for (const f of FLAGS) ports.set(f, f === c.flag ? busy : await freePort());
        // No --ca-out: meshd writes its roots under its own temporary directory and must take it away.
        const tmp = scratchDir('meshd-cli-tmp-');
        const child = spawn(process.execPath, ['bin/meshd.js', 'serve', '--local-dir', 'test/fixtures/local', '--address', '127.0.0.1',
          ...FLAGS.flatMap((f) => [f, String(ports.get(f))])], { cwd: ROOT, env: { ...ENV, TMPDIR: tmp } });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const code = await new Promise<number | null>((resolve) => {
          // Longer than a start on a loaded machine: a process still up then is the half-alive one.
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve(null);
          }, 60_000);
          child.once('exit', (status) => {
            clearTimeout(timer);
            resolve(status);
          });
        });
        assert.equal(code, 1, stderr);
        const last = stderr.trim().split('\n').at(-1)!;
        assert.equal(last, `meshd serve: cannot listen on 127.0.0.1:${busy} (${c.name.replace(/ \(.*/, '')}): address already in use`);
        for (const [f, p] of ports) if (f !== c.flag) assert.ok(await canBind(p), `${f} ${p} still bound`);
        assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('meshd-')), [], 'temporary CA directory left');
      } finally {
        await new Promise((resolve) => taken.close(resolve));
      }
    });
  }
});
