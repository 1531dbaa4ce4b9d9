// The bench's order statistics: the confidence interval of a median (bench/statistics.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, medianInterval } from '../../bench/statistics.ts';

test('the 90 % interval of the median of 40 samples is the 15th smallest to the 15th largest', () => {
  // P(B ≤ 14) = 0.0403 for B ~ Binomial(40, 1/2): coverage 0.919; one step narrower gives 0.846.
  const values = Array.from({ length: 40 }, (_, index) => (index * 7) % 40); // 0 … 39, shuffled
  assert.deepEqual(medianInterval(values, 0.9), { low: 14, high: 25 });
});

test('the interval narrows as the samples grow, always around the median, and needs 5 samples at 90 %', () => {
  assert.equal(medianInterval([1, 2, 3, 4], 0.9), undefined); // the extremes cover 1 − 2/16 = 0.875
  assert.deepEqual(medianInterval([5, 1, 4, 2, 3], 0.9), { low: 1, high: 5 }); // 1 − 2/32 = 0.9375
  let lastWidth = Number.POSITIVE_INFINITY;
  for (const n of [10, 20, 40, 80, 160]) {
    const values = Array.from({ length: n }, (_, index) => index);
    const interval = medianInterval(values, 0.9);
    assert.ok(interval, `an interval for ${n} samples`);
    assert.ok(interval.low <= median(values) && median(values) <= interval.high);
    const width = (interval.high - interval.low) / n;
    assert.ok(width < lastWidth, `narrower (as a share of the samples) at ${n}`);
    lastWidth = width;
  }
});

test('a higher level gives a wider interval of the same samples', () => {
  const values = Array.from({ length: 40 }, (_, index) => index);
  const ninety = medianInterval(values, 0.9);
  const ninetyNine = medianInterval(values, 0.99);
  assert.ok(ninety && ninetyNine);
  assert.ok(ninetyNine.low < ninety.low && ninetyNine.high > ninety.high);
});
