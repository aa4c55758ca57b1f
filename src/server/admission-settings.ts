// Injection settings on their way to an admission worker. The large, rarely changing parts (injector config,
// values, mesh config) are sent to each worker once and named by their identity afterwards; the per-pod parts
// (native sidecars, URL env, namespace annotations) travel with every request.
import { identity } from '../inject/memo.js';
import type { InjectionSettings } from '../types.js';

type Shared = 'config' | 'values' | 'mesh';
const SHARED: Shared[] = ['config', 'values', 'mesh'];

export interface WireSettings {
  /** The worker forgets every part it holds before reading these. */
  reset?: boolean;
  parts: Record<Shared, { id: number; value?: unknown }>;
  rest: Omit<InjectionSettings, Shared>;
}

/** Parts a worker is known to hold at most; past this it is told to start over. */
const MAX_HELD = 48;

/** Encodes `settings` for a worker that holds the parts in `held` (updated to what it will hold). */
export function toWire(settings: InjectionSettings, held: Set<number>): WireSettings {
  const { config: _c, values: _v, mesh: _m, ...rest } = settings;
  const ids = SHARED.map((k) => identity(settings[k]));
  const reset = held.size + SHARED.length > MAX_HELD && ids.some((id) => !held.has(id));
  if (reset) held.clear();
  const parts = {} as WireSettings['parts'];
  SHARED.forEach((k, i) => {
    const id = ids[i]!;
    parts[k] = held.has(id) ? { id } : { id, value: settings[k] };
    held.add(id);
  });
  return reset ? { reset, parts, rest } : { parts, rest };
}

/** The worker's side: rebuilds settings from what it was sent, keeping parts by id (identity then stands). */
export function fromWire(wire: WireSettings, parts: Map<number, unknown>): InjectionSettings {
  if (wire.reset) parts.clear();
  const out = { ...wire.rest } as InjectionSettings;
  for (const k of SHARED) {
    const { id, value } = wire.parts[k];
    if (value !== undefined) parts.set(id, value);
    if (!parts.has(id)) throw new Error(`admission worker lacks settings part ${id}`);
    (out as unknown as Record<Shared, unknown>)[k] = parts.get(id);
  }
  return out;
}
