import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosine, differenceOfMeans, firstPrincipalComponent, gramSchmidt, meanVector, mostCentral, normalize, percentile } from '../../extension/common/analysis/stats';

const f32 = (...values: number[]) => new Float32Array(values);
function closeAll(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6) {
  assert.equal(actual.length, expected.length);
  expected.forEach((value, i) => assert.ok(Math.abs(actual[i] - value) <= tolerance, `[${i}] ${actual[i]} ≠ ${value}`));
}

test('mean and difference of means', () => {
  closeAll(meanVector([f32(1, 2), f32(3, 4), f32(5, 9)]), [3, 5]);
  closeAll(differenceOfMeans([f32(1, 2), f32(3, 4)], [f32(0, 0), f32(0, 2)]), [2, 2]);
  assert.throws(() => meanVector([]), /at least one vector/);
  assert.throws(() => meanVector([f32(1, 2), f32(1)]), /vector 1 has 1 dimensions; vector 0 has 2/);
});

test('means accumulate in float64: 2^24 + 1 + 1 + 1 is not lost to float32 rounding', () => {
  const mean = meanVector([f32(2 ** 24), f32(1), f32(1), f32(1)]);
  assert.equal(mean[0], Math.fround((2 ** 24 + 3) / 4));
  assert.notEqual(mean[0], 2 ** 22); // what float32 sums would give
});

test('percentile interpolates linearly between order statistics, as numpy', () => {
  assert.equal(percentile([1, 2, 3, 4], 25), 1.75);
  assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
  assert.equal(percentile([10, 20, 30, 40, 50], 25), 20);
  assert.equal(percentile([10, 20, 30, 40, 50], 90), 46);
  assert.equal(percentile([1, 2, 3, 4], 0), 1);
  assert.equal(percentile([1, 2, 3, 4], 100), 4);
  assert.equal(percentile(f32(-1, -3, -2), 50), -2);
  assert.equal(percentile([7], 33), 7);
  assert.throws(() => percentile([], 50), /no values/);
  assert.throws(() => percentile([1], 101), /0 to 100/);
});

test('cosine, normalize and Gram-Schmidt', () => {
  assert.ok(Math.abs(cosine([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  closeAll(normalize(f32(3, 4)), [0.6, 0.8]);
  closeAll(gramSchmidt(f32(1, 1, 0), [f32(2, 0, 0)]), [0, 1, 0]);
  closeAll(gramSchmidt(f32(1, 2, 3), [f32(1, 0, 0), f32(0, 1, 0)]), [0, 0, 1]);
  assert.throws(() => gramSchmidt(f32(2, 0), [f32(1, 0)]), /span of the basis/);
  assert.throws(() => normalize(f32(0, 0)), /norm 0/);
  assert.throws(() => cosine([0, 0], [1, 1]), /zero vector/);
});

test('PC1 of points on a line, with the sign convention: largest |component| positive, first on ties', () => {
  const up = firstPrincipalComponent([f32(0, 0), f32(2, 2), f32(4, 4)]);
  closeAll(up.direction, [Math.SQRT1_2, Math.SQRT1_2]);
  assert.ok(Math.abs(up.explainedVariance - 1) < 1e-9);
  closeAll(firstPrincipalComponent([f32(0, 0), f32(2, -2), f32(4, -4)]).direction, [Math.SQRT1_2, -Math.SQRT1_2]);
  closeAll(firstPrincipalComponent([f32(0, 0), f32(1, -3), f32(2, -6)]).direction, [-1 / Math.sqrt(10), 3 / Math.sqrt(10)]);
});

test('PC1 aligned with a reference when one is given', () => {
  closeAll(firstPrincipalComponent([f32(0, 0), f32(2, -2), f32(4, -4)], f32(-1, 0.5)).direction, [-Math.SQRT1_2, Math.SQRT1_2]);
});

test('PC1 of a 2-D cloud, hand-computed: scatter [[10, 2], [2, 4]], λ = 7 + √13, angle ½·atan2(4, 6)', () => {
  const points = [f32(2, 1), f32(-2, -1), f32(1, -1), f32(-1, 1)];
  const angle = 0.5 * Math.atan2(4, 6);
  const expected = [Math.cos(angle), Math.sin(angle)];
  const viaCovariance = firstPrincipalComponent(points); // n = 4 > d = 2
  closeAll(viaCovariance.direction, expected);
  assert.ok(Math.abs(viaCovariance.explainedVariance - (7 + Math.sqrt(13)) / 14) < 1e-9);
  // The same points in 5 dimensions: n = 4 ≤ d = 5 takes the Gram-matrix path.
  const padded = points.map((p) => f32(p[0], p[1], 0, 0, 0));
  closeAll(firstPrincipalComponent(padded).direction, [...expected, 0, 0, 0]);
});

test('PC1 is mean-centred: a shared offset does not change it', () => {
  const pc = firstPrincipalComponent([f32(1, 0, 0, 0), f32(-1, 0, 0, 0), f32(0, 0.5, 0, 0)].map((v) => v.map((x, i) => x + [5, 5, 5, 5][i])));
  closeAll(pc.direction, [1, 0, 0, 0]);
  assert.ok(Math.abs(pc.explainedVariance - 12 / 13) < 1e-6);
  assert.throws(() => firstPrincipalComponent([f32(1, 2), f32(1, 2)]), /all equal/);
});

test('the most central vector has the highest mean cosine to the others', () => {
  const result = mostCentral([f32(1, 0), f32(1, 1), f32(0, 3)]);
  assert.equal(result.index, 1);
  assert.ok(Math.abs(result.meanCosine - Math.SQRT1_2) < 1e-7);
  assert.equal(mostCentral([f32(1, 0), f32(0, 1)]).index, 0);
});
