// Local mode: Kubernetes and Istio objects come from a directory of YAML files, re-read when it changes.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseYamlStream } from '../config/yaml.js';
import type { KubeObject, ObjectStore } from './store.js';

const MAX_FILE_BYTES = 16 * 1024 * 1024;

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.')) out.push(...(await yamlFiles(p)));
    else if (entry.isFile() && ['.yaml', '.yml', '.json'].includes(extname(entry.name))) out.push(p);
  }
  return out.sort();
}

function isObj(v: unknown): v is KubeObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads every object in `dir`; Lists are expanded. Files that fail to parse are reported, not fatal. */
export async function readObjects(dir: string, onError: (file: string, err: Error) => void): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  for (const file of await yamlFiles(dir)) {
    try {
      if ((await stat(file)).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      for (const doc of parseYamlStream(await readFile(file, 'utf8'), file)) {
        if (!isObj(doc)) continue;
        if (doc.kind === 'List' && Array.isArray(doc.items)) objects.push(...doc.items.filter(isObj));
        else if (typeof doc.kind === 'string') objects.push(doc);
      }
    } catch (e) {
      onError(file, e as Error);
    }
  }
  return objects;
}

/** Loads `dir` into the store now and again whenever a file below it changes. Returns a stop function. */
export async function watchDirectory(dir: string, store: ObjectStore, onError: (file: string, err: Error) => void): Promise<() => void> {
  const load = async (): Promise<void> => store.replaceSource(`dir:${dir}`, await readObjects(dir, onError));
  await load();
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void load().catch((e: Error) => onError(dir, e)), 200);
  };
  try {
    watcher = watch(dir, { recursive: true }, schedule);
  } catch {
    // No recursive watch on this platform: poll instead.
    const poll = setInterval(schedule, 2000);
    return () => clearInterval(poll);
  }
  return () => {
    clearTimeout(timer);
    watcher?.close();
  };
}
