// "Inject the same pods": workloads from Istio's injection goldens injected by meshd with the ConfigMaps and
// Deployment environment meshd's chart rendered, and with those istiod's chart rendered. Both inject with
// meshd's built-in templates (istiod's chart writes Istio's out under the same names; they are dropped
// here), so what differs is what the charts decide: values, mesh config, injector config, environment.
// The templates themselves are compared with Istio's by conformance:inject and conformance:istioctl; the
// peers' Istio commit can be newer than the goldens those use, which would show here as a template change.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { runInject } from '../../../src/cli/inject.js';
import { commonOptions } from '../../../src/cli/options.js';
import { parseYamlStream } from '../../../src/config/yaml.js';
import { diffPaths } from '../inject.js';
import { parse, stringify } from 'yaml';
import { ISTIOD_BUILTIN_TEMPLATES, type Obj } from './owned.js';

const INJECT_INPUTS = join(import.meta.dirname, '../../../../shared/istio/inject/inject');
/** Deployments, pods and the other workload kinds, with probes, gateways, gRPC and native sidecars. */
export const WORKLOADS = ['hello.yaml', 'hello-probes.yaml', 'frontend.yaml', 'cronjob.yaml',
  'daemonset.yaml', 'job.yaml',
  'gateway.yaml', 'grpc-agent.yaml', 'native-sidecar-opt-in.yaml', 'hello-openshift.yaml'];

interface Side { docs: Obj[]; dir: string }

/** The files and environment a side injects with, or why it cannot inject. */
interface Injector { flags: Record<string, string>; env: NodeJS.ProcessEnv }

function injectorOf(side: Side, tag: string): Injector | string {
  const cm = (pred: (name: string) => boolean): Obj | undefined =>
    side.docs.find((d) => d.kind === 'ConfigMap' && pred(d.metadata?.name ?? ''));
  const injector = cm((n) => n.startsWith('istio-sidecar-injector'));
  const mesh = cm((n) => /^istio(-|$)/.test(n) && !n.startsWith('istio-sidecar-injector'));
  if (!injector) return 'no injector ConfigMap';
  const at = (f: string): string => join(side.dir, `${tag}-${f}`);
  const files = { values: at('values.json'), mesh: at('mesh.yaml'), 'injector-config': at('config.yaml') };
  writeFileSync(files.values, injector.data?.values ?? '{}');
  writeFileSync(files.mesh, mesh?.data?.mesh ?? '');
  const config = (parse(injector.data?.config ?? '') ?? {}) as Obj;
  const templates = Object.entries(config.templates ?? {});
  config.templates = Object.fromEntries(templates.filter(([k]) => !ISTIOD_BUILTIN_TEMPLATES.has(k)));
  delete config.template;
  writeFileSync(files['injector-config'], stringify(config));
  const deployment = side.docs.find((d) => d.kind === 'Deployment' && /^istiod/.test(d.metadata?.name ?? ''));
  const container = deployment?.spec?.template?.spec?.containers?.find((c: Obj) => c.name === 'discovery');
  const env: NodeJS.ProcessEnv = {};
  for (const e of container?.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return { flags: files, env };
}

async function inject(input: string, out: string, how: Injector): Promise<unknown> {
  const stderr = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await runInject(input, out, commonOptions(how.flags, how.env));
    return parseYamlStream(readFileSync(out, 'utf8'), 'injected');
  } catch (e) {
    return { refused: (e as Error).message };
  } finally {
    process.stderr.write = stderr;
  }
}

/** Differences in the injected workloads, or undefined when neither side has an injector to compare. */
export async function injectDifferences(meshd: Side, istiod: Side): Promise<string[] | undefined> {
  const m = injectorOf(meshd, 'meshd');
  const i = injectorOf(istiod, 'istiod');
  if (typeof m === 'string' && typeof i === 'string') return undefined;
  const what = (x: unknown): string => (typeof x === 'string' ? x : 'injects');
  if (typeof m === 'string' || typeof i === 'string') {
    return [`injection: meshd ${what(m)}, istiod ${what(i)}`];
  }
  const diffs: string[] = [];
  for (const w of WORKLOADS) {
    const input = join(INJECT_INPUTS, w);
    const got = await inject(input, join(meshd.dir, 'out-meshd.yaml'), m);
    const want = await inject(input, join(istiod.dir, 'out-istiod.yaml'), i);
    if (!isDeepStrictEqual(got, want)) {
      diffs.push(`injection of ${w} differs: ${diffPaths(got, want).slice(0, 5).join('; ')}`);
    }
  }
  return diffs;
}
