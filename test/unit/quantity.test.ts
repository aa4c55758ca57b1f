import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalQuantity } from '../../src/kube/quantity.js';

describe('resource quantities', () => {
  it('write the API server canonical form', () => {
    const cases: Array<[string | number, string]> = [
      ['2000m', '2'], ['1000m', '1'], ['100m', '100m'], ['1500m', '1500m'], ['0.5', '500m'], ['1024Mi', '1Gi'], ['128Mi', '128Mi'],
      ['1000Mi', '1000Mi'], ['1000', '1k'], ['1500', '1500'], [3, '3'], ['0', '0'], ['1e3', '1k'], ['1Ki', '1Ki'], ['0.5Ki', '512'], ['-100m', '-100m'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalQuantity(input), want, String(input));
  });
  it('reject text that is not a quantity', () => {
    for (const bad of ['', 'abc', '1.2.3', '10 m', '5Xi']) assert.throws(() => canonicalQuantity(bad), /quantities must match/, bad);
  });
});
