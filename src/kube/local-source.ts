// Local mode: Kubernetes and Istio objects come from a directory of YAML files, re-read when it changes.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseYamlStream } from '../config/yaml.js';
import type { KubeObject, ObjectStore } from './store.js';
import { isObj } from '../util/json.js';

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

const isKubeObject = (v: unknown): v is KubeObject => isObj(v);

/** Parsed files by path, with the size and mtime they had: an unchanged file is not parsed again. */
export type ParseCache = Map<string, { stamp: string; objects: KubeObject[] }>;

/** Reads every object in `dir`; Lists are expanded. Files that fail to parse are reported, not fatal. */
export async function readObjects(dir: string, onError: (file: string, err: Error) => void, cache: ParseCache = new Map()): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  const files = await yamlFiles(dir);
  for (const file of files) {
    try {
      const st = await stat(file);
      if (st.size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      const stamp = `${st.size}:${st.mtimeMs}`;
      const cached = cache.get(file);
      if (cached?.stamp === stamp) {
        objects.push(...cached.objects);
        continue;
      }
      const parsed: KubeObject[] = [];
      for (const doc of parseYamlStream(await readFile(file, 'utf8'), file)) {
        if (!isKubeObject(doc)) continue;
        if (doc.kind === 'List' && Array.isArray(doc.items)) parsed.push(...doc.items.filter(isObj));
        else if (typeof doc.kind === 'string') parsed.push(doc);
      }
      cache.set(file, { stamp, objects: parsed });
      objects.push(...parsed);
    } catch (e) {
      cache.delete(file);
      onError(file, e as Error);
    }
  }
  for (const file of cache.keys()) if (!files.includes(file)) cache.delete(file);
  return objects;
}

/** Loads `dir` into the store now and again whenever a file below it changes. Returns a stop function. */
export async function watchDirectory(dir: string, store: ObjectStore, onError: (file: string, err: Error) => void): Promise<() => void> {
  const cache: ParseCache = new Map();
  const load = async (): Promise<void> => store.replaceSource(`dir:${dir}`, await readObjects(dir, onError, cache));
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
