// A least-recently-used map bounded by its entry count and by a cost per entry (by default the characters
// of its key and of a string value), so that caches keyed or filled by what callers send stay bounded.

export type CostOf<V> = (key: string, value: V) => number;

const textCost = (key: string, value: unknown): number => key.length + (typeof value === 'string' ? value.length : 0);

export class LruCache<V> {
  private readonly map = new Map<string, V>();
  private total = 0;
  /** Entries dropped to make room (not counting replacements). */
  evictions = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxCost: number,
    private readonly cost: CostOf<V> = textCost,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The summed cost of the entries held. */
  get held(): number {
    return this.total;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Stores `value` (undefined is not storable); an entry costlier than the whole budget is not kept. */
  set(key: string, value: V): void {
    const c = this.cost(key, value);
    this.delete(key);
    if (c > this.maxCost || this.maxEntries <= 0) return;
    while (this.map.size > 0 && (this.map.size >= this.maxEntries || this.total + c > this.maxCost)) {
      this.delete(this.map.keys().next().value!);
      this.evictions++;
    }
    this.map.set(key, value);
    this.total += c;
  }

  delete(key: string): void {
    if (!this.map.has(key)) return;
    this.total -= this.cost(key, this.map.get(key)!);
    this.map.delete(key);
  }
}
