// Host-name matching over whole lists in time linear in their size (plus the matches reported), where
// istiod compares every pair: istio host.Name.Matches (either side may be a `*` wildcard, which matches by
// plain string suffix) between the hosts of one VirtualService, and SubsetOf for SNI hosts.

const isWild = (h: string): boolean => h.startsWith('*');
/** What a host matches by: the text after the wildcard, or the whole host. */
const tailOf = (h: string): string => (isWild(h) ? h.slice(1) : h);

const MOD = 2147483647;

/**
 * The indexed strings that are suffixes of a text, found with one right-to-left rolling hash over the
 * text (candidates are then compared, so hash collisions cost time, never correctness). The base is random
 * so that a client cannot precompute colliding inputs.
 */
class SuffixIndex {
  private readonly base = 257 + Math.floor(Math.random() * 65_000);
  private readonly byKey = new Map<number, string[]>();
  /** Which lengths occur, so that most positions of a text need no lookup. */
  private readonly lengths = new Uint8Array(512);
  private maxLength = -1;

  constructor(strings: Iterable<string>) {
    for (const s of strings) {
      const key = this.key(this.hashOf(s), s.length);
      const bucket = this.byKey.get(key);
      if (!bucket) this.byKey.set(key, [s]);
      else if (!bucket.includes(s)) bucket.push(s);
      this.maxLength = Math.max(this.maxLength, s.length);
      this.lengths[Math.min(s.length, 511)] = 1;
    }
  }

  private key(hash: number, length: number): number {
    return hash * 512 + Math.min(length, 511);
  }

  private hashOf(s: string): number {
    let h = 0;
    for (let i = s.length - 1; i >= 0; i--) h = (h * this.base + s.charCodeAt(i)) % MOD;
    return h;
  }

  /** Indexed strings that are suffixes of `text` (the empty string included), shortest first. */
  suffixesOf(text: string): string[] {
    const out: string[] = [];
    let h = 0;
    const limit = Math.min(text.length, this.maxLength);
    for (let len = 0; len <= limit; len++) {
      if (len > 0) h = (h * this.base + text.charCodeAt(text.length - len)) % MOD;
      if (this.lengths[Math.min(len, 511)] === 0) continue;
      const bucket = this.byKey.get(this.key(h, len));
      if (bucket) for (const s of bucket) if (s.length === len && text.endsWith(s)) out.push(s);
    }
    return out;
  }
}

function firstAbove(sorted: number[], i: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const l = map.get(key);
  if (l) l.push(i);
  else map.set(key, [i]);
}

const reverse = (s: string): string => s.split('').reverse().join('');

/**
 * Calls `visit(i, j)` for every pair i < j of `hosts` that match each other (host.Name.Matches), in the
 * order istiod's nested loop finds them, until `visit` returns false. Hosts are valid DNS names or IPs.
 */
export function forEachMatchingHostPair(hosts: readonly string[], visit: (i: number, j: number) => boolean): void {
  const exact = new Map<string, number[]>();
  const wild = new Map<string, number[]>();
  hosts.forEach((h, i) => push(isWild(h) ? wild : exact, tailOf(h), i));
  if (wild.size === 0 && [...exact.values()].every((l) => l.length === 1)) return;
  const suffixes = new SuffixIndex(wild.keys());
  // Every host's tail reversed and sorted: the tails ending with some text are one run of this order.
  const order = hosts.map((_, i) => i);
  const reversed = hosts.map((h) => reverse(tailOf(h)));
  order.sort((a, b) => (reversed[a]! < reversed[b]! ? -1 : reversed[a]! > reversed[b]! ? 1 : a - b));
  const lowerBound = (text: string): number => {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (reversed[order[mid]!]! < text) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const partners: number[] = [];
  for (let i = 0; i < hosts.length; i++) {
    const tail = tailOf(hosts[i]!);
    partners.length = 0;
    const addAbove = (list: number[] | undefined): void => {
      if (!list) return;
      for (let k = firstAbove(list, i); k < list.length; k++) partners.push(list[k]!);
    };
    // Wildcards whose tail is a suffix of this host's tail match it (Matches is symmetric).
    for (const s of suffixes.suffixesOf(tail)) addAbove(wild.get(s));
    if (!isWild(hosts[i]!)) addAbove(exact.get(tail));
    else {
      // A wildcard matches every host whose tail ends with its own.
      const rev = reversed[i]!;
      for (let p = lowerBound(rev); p < order.length && reversed[order[p]!]!.startsWith(rev); p++) if (order[p]! > i) partners.push(order[p]!);
    }
    if (partners.length === 0) continue;
    // A wildcard can be found both ways (equal tails): each pair is reported once.
    partners.sort((a, b) => a - b);
    for (let k = 0; k < partners.length; k++) if (partners[k] !== partners[k - 1] && !visit(i, partners[k]!)) return;
  }
}

/** For SNI hosts: whether a host is a subset (host.Name.SubsetOf) of any host of a list, each in O(its length). */
export function subsetChecker(hosts: readonly string[]): (host: string) => boolean {
  const exact = new Set(hosts.filter((h) => !isWild(h)));
  const suffixes = new SuffixIndex(hosts.filter(isWild).map(tailOf));
  // A wildcard is a subset only of wildcards whose tail ends its own; an exact host of an equal host too.
  return (host) => (!isWild(host) && exact.has(host)) || suffixes.suffixesOf(tailOf(host)).length > 0;
}
