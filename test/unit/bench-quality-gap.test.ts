// The benchmark's quality comparison with llama.cpp: per-position top-1 hits, and the sign test that
// says whether one engine's extra misses could be chance (the figure a missed quality target cites).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDistributions } from '../bench/peer';
import { signTestP } from '../bench/stats';

function binomialTail(n: number, k: number): number {
  let sum = 0;
  let c = 1;
  for (let i = 0; i <= k; i++) {
    sum += c;
    c = (c * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

test('the sign test is the two-sided exact binomial tail, capped at 1', () => {
  assert.equal(signTestP(0, 0), 1);
  assert.equal(signTestP(3, 3), 1);
  // 8 against 6 of 14: P(X ≤ 6) = 6476 / 16384 for X ~ Bin(14, 1/2).
  assert.ok(Math.abs(signTestP(8, 6) - (2 * 6476) / 16384) < 1e-12);
  assert.equal(signTestP(6, 8), signTestP(8, 6));
  assert.ok(Math.abs(signTestP(0, 10) - 2 / 1024) < 1e-15);
  assert.ok(Math.abs(signTestP(40, 12) - 2 * binomialTail(52, 12)) < 1e-15);
  assert.ok(signTestP(300, 200) > 0 && signTestP(300, 200) < 1e-5);
  // Past 1,074 pairs 2^-n underflows: an even split must still read 1, a near-even one close to it.
  assert.equal(signTestP(1000, 1000), 1);
  assert.ok(signTestP(1010, 990) > 0.6 && signTestP(1010, 990) < 0.7);
});

test('top-1 hits mark, per position, whether a format keeps fp32\'s most likely token', () => {
  const reference = [Float64Array.of(0.7, 0.2, 0.1), Float64Array.of(0.1, 0.3, 0.6), Float64Array.of(0.5, 0.4, 0.1)];
  const other = [Float64Array.of(0.6, 0.3, 0.1), Float64Array.of(0.1, 0.5, 0.4), Float64Array.of(0.5, 0.4, 0.1)];
  const fidelity = compareDistributions(reference, other);
  assert.deepEqual(fidelity.top1Hits, [true, false, true]);
  assert.equal(fidelity.top1Agreement, 2 / 3);
  const kl = 0.7 * Math.log(0.7 / 0.6) + 0.2 * Math.log(0.2 / 0.3) + 0.3 * Math.log(0.3 / 0.5) + 0.6 * Math.log(0.6 / 0.4);
  assert.ok(Math.abs(fidelity.meanKl - kl / 3) < 1e-12);
});
