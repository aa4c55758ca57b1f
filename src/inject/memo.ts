// Memoisation helpers. Injection is a pure function of the pod and the settings, and every pod of a
// ReplicaSet reaches the webhook with the same spec, so answers are remembered. Settings objects are
// replaced, never mutated, on reload, so their identity stands for their content.

const ids = new WeakMap<object, number>();
const textIds = new Map<string, number>();
let nextId = 1;

/** A small number standing for an object's (or a template text's) identity. */
export function identity(v: object | string): number {
  if (typeof v === 'string') {
    let id = textIds.get(v);
    if (id === undefined) {
      if (textIds.size > 1024) textIds.clear();
      textIds.set(v, (id = nextId++));
    }
    return id;
  }
  let id = ids.get(v);
  if (id === undefined) ids.set(v, (id = nextId++));
  return id;
}

/** A least-recently-used map bounded by entry count and by the characters its keys and values hold. */
export class LruCache<V extends string | null> {
  private readonly map = new Map<string, V>();
  private chars = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    const size = (k: string, v: V | undefined): number => k.length + (v?.length ?? 0);
    if (size(key, value) > this.maxChars) return;
    this.delete(key);
    while (this.map.size > 0 && (this.map.size >= this.maxEntries || this.chars + size(key, value) > this.maxChars)) {
      this.delete(this.map.keys().next().value!);
    }
    this.map.set(key, value);
    this.chars += size(key, value);
  }

  private delete(key: string): void {
    if (!this.map.has(key)) return;
    this.chars -= key.length + (this.map.get(key)?.length ?? 0);
    this.map.delete(key);
  }
}
