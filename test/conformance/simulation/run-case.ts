// One case against meshd: its inputs in a fresh local directory, one `meshd serve --local-dir` for it, the
// case's proxy's xDS fetched with xdsdump (delta, as Envoy), and the simulator run over that for the calls.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMeshd, type MeshdProcess } from '../../helpers/meshd-process.js';
import { scratchDir } from '../../helpers/scratch.js';
import type { SimCase } from './cases.js';
import { toolCall } from './calls.js';
import type { SimResult } from './expect.js';
import type { MeshdInputs } from './inputs.js';
import { buildNode } from './node.js';

const run = promisify(execFile);
const MAX_OUTPUT = 256 * 1024 * 1024;

export interface Tools {
  xdsdump: string;
  simulate: string;
}

export interface ToolResult extends SimResult {
  call: Record<string, unknown>;
}

export interface CaseRun {
  results: ToolResult[];
  /** Validation kind to the errors it reported (an empty list: it passed). */
  validation: Record<string, string[]>;
  /** What else the run showed: xdsdump's NACK-worthy resources and errors, meshd's warnings. */
  notes: string[];
}

interface Dump {
  resources?: Record<string, Record<string, unknown>>;
  invalid?: Record<string, Record<string, string>>;
  missing?: Record<string, string[]>;
  errors?: string[];
}

/** meshd's log lines that explain a result: config it refused or could not read. */
function meshdWarnings(meshd: MeshdProcess): string[] {
  const worth = /invalid Istio config ignored|cannot read local object file|"level":(50|60)/;
  return meshd.logs().split('\n').filter((l) => worth.test(l));
}

export async function runCase(c: SimCase, inputs: MeshdInputs, tools: Tools): Promise<CaseRun> {
  const dir = scratchDir('meshd-sim-');
  const local = join(dir, 'local');
  mkdirSync(local);
  const list = { apiVersion: 'v1', kind: 'List', items: inputs.objects };
  writeFileSync(join(local, 'objects.json'), JSON.stringify(list, null, 1));
  const args = ['--local-dir', local, '--shutdown-delay', '0'];
  if (inputs.mesh) {
    writeFileSync(join(dir, 'mesh.json'), JSON.stringify(inputs.mesh));
    args.push('--mesh', join(dir, 'mesh.json'));
  }
  writeFileSync(join(dir, 'node.json'), JSON.stringify(buildNode(c.proxy)));
  writeFileSync(join(dir, 'calls.json'), JSON.stringify(c.calls.map((e) => toolCall(e.call))));
  const meshd = await startMeshd(args, inputs.env);
  const notes: string[] = [];
  try {
    const dumpArgs = ['--addr', `127.0.0.1:${meshd.xdsPort}`, '--node', join(dir, 'node.json'), '--protocol', 'delta',
      '--mode', 'envoy', '--settle', '500ms', '--timeout', '30s'];
    const fetched = await run(tools.xdsdump, dumpArgs, { maxBuffer: MAX_OUTPUT });
    writeFileSync(join(dir, 'dump.json'), fetched.stdout);
    const dump = JSON.parse(fetched.stdout) as Dump;
    for (const e of dump.errors ?? []) notes.push(`xdsdump error: ${e}`);
    const short = (type: string): string => type.split('.').pop()!;
    for (const [type, byName] of Object.entries(dump.invalid ?? {})) {
      for (const [name, err] of Object.entries(byName)) notes.push(`invalid ${short(type)} ${name}: ${err}`);
    }
    for (const [type, names] of Object.entries(dump.missing ?? {})) {
      if (names.length) notes.push(`never sent ${short(type)}: ${names.join(', ')}`);
    }
    const simArgs = ['--resources', join(dir, 'dump.json'), '--calls', join(dir, 'calls.json')];
    if (c.validate.length) simArgs.push('--validate', c.validate.join(','));
    const simulated = await run(tools.simulate, simArgs, { maxBuffer: MAX_OUTPUT });
    const out = JSON.parse(simulated.stdout) as { results: ToolResult[]; validation?: Record<string, string[]> };
    return { results: out.results, validation: out.validation ?? {}, notes };
  } finally {
    await meshd.close();
    // After the exit, so that everything meshd wrote is in.
    notes.push(...meshdWarnings(meshd).map((l) => `meshd: ${l}`));
  }
}
