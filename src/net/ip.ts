// IP address and prefix parsing with the strictness of Go's net/netip (no zones, no leading zeros).

/** netip.ParsePrefix: an IPv4 or IPv6 address with a prefix length, nothing else. */
export function isCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || (bits.length > 1 && bits.startsWith('0'))) return false;
  if (isIPv4(addr)) return Number(bits) <= 32;
  if (isIPv6(addr)) return Number(bits) <= 128;
  return false;
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (s.includes('%')) return false;
  let addr = s;
  const lastColon = addr.lastIndexOf(':');
  if (addr.includes('.') && lastColon >= 0) {
    if (!isIPv4(addr.slice(lastColon + 1))) return false;
    addr = addr.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = addr.split('::');
  if (dbl.length > 2) return false;
  const groups = (x: string): string[] => (x === '' ? [] : x.split(':'));
  const head = groups(dbl[0]!);
  const tail = dbl.length === 2 ? groups(dbl[1]!) : [];
  const all = [...head, ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return dbl.length === 2 ? all.length < 8 : all.length === 8;
}

/** netip.ParseAddr. */
export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}
