// How the benches print a comparison: one figure over another, two decimals; "-" when it has no meaning.
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : '-';
}
