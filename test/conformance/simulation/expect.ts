// Whether a simulator result meets a case's expectation, by the data README's rules (those of the Go
// tests' Result.Matches): the error always counts; the six matched names only when the expectation
// gives them non-empty, or all six (empty meaning empty) with strictMatch.
import { RESULT_FIELDS, type Expectation, type ResultField } from './cases.js';

export type SimResult = { error: string } & Record<ResultField, string>;

/** The differences, as `field: want X, got Y`; empty when the result matches. */
export function differences(want: Expectation, got: SimResult): string[] {
  const out: string[] = [];
  const wantError = want.error === 'none' ? '' : want.error;
  if (wantError !== got.error) out.push(`error: want ${want.error}, got ${got.error || 'none'}`);
  for (const f of RESULT_FIELDS) {
    const w = want[f] ?? '';
    if ((w !== '' || want.strictMatch) && w !== got[f]) {
      out.push(`${f}: want ${JSON.stringify(w)}, got ${JSON.stringify(got[f])}`);
    }
  }
  return out;
}
