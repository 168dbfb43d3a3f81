import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blocksWithAllPointsSelected, classMeanProjections, isDiscriminative, rotateInPlane, selectivePlane } from '../../extension/common/analysis/selective';
import { dot, norm } from '../../extension/common/analysis/stats';

const f32 = (...values: number[]) => new Float32Array(values);
function closeAll(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6) {
  expected.forEach((value, i) => assert.ok(Math.abs(actual[i] - value) <= tolerance, `[${i}] ${actual[i]} ≠ ${value}`));
}
const plane = { b1: f32(1, 0, 0), b2: f32(0, 1, 0) };

test('rotation turns the in-plane part from b1 toward b2 and leaves the rest alone', () => {
  closeAll(rotateInPlane(f32(1, 0, 5), plane, 90), [0, 1, 5]);
  closeAll(rotateInPlane(f32(1, 0, 5), plane, 180), [-1, 0, 5]);
  closeAll(rotateInPlane(f32(0, 2, 5), plane, 90), [-2, 0, 5]);
  closeAll(rotateInPlane(f32(3, 4, -1), plane, 360), [3, 4, -1]);
  closeAll(rotateInPlane(f32(3, 4, -1), plane, 0), [3, 4, -1]);
});

test('rotation preserves the norm', () => {
  const h = f32(0.3, -1.7, 2.2);
  const tilted = { b1: f32(Math.SQRT1_2, Math.SQRT1_2, 0), b2: f32(0, 0, 1) };
  for (const theta of [10, 37, 135, 250]) assert.ok(Math.abs(norm(rotateInPlane(h, tilted, theta)) - norm(h)) < 1e-5);
});

test('class means of unit activations on b1: opposite signs select the point', () => {
  // positive: (3,4)→0.6, (1,0)→1 ⇒ 0.8; negative: (−1,0)→−1, (0,5)→0 ⇒ −0.5
  const means = classMeanProjections([f32(3, 4), f32(1, 0)], [f32(-1, 0), f32(0, 5)], f32(2, 0));
  assert.ok(Math.abs(means.positive - 0.8) < 1e-7 && Math.abs(means.negative + 0.5) < 1e-7);
  assert.equal(isDiscriminative([f32(3, 4), f32(1, 0)], [f32(-1, 0), f32(0, 5)], f32(2, 0)), true);
  assert.equal(isDiscriminative([f32(3, 4)], [f32(1, 1)], f32(2, 0)), false);
  assert.throws(() => classMeanProjections([], [f32(1, 0)], f32(1, 0)), /no positive activations/);
});

test('a block is kept only when all its norm points are selected; the final norm never is', () => {
  const points = [
    { block: 0, selected: true }, { block: 0, selected: true },
    { block: 1, selected: true }, { block: 1, selected: false },
    { block: 3, selected: true }, { block: 2, selected: true },
    { block: null, selected: true },
  ];
  assert.deepEqual(blocksWithAllPointsSelected(points), [0, 2, 3]);
});

test('the plane: b1 is the most central direction, b2 its orthonormal partner from PC1', () => {
  const { b1, b2, b1Index } = selectivePlane([f32(2, 0, 0), f32(1, 1, 0), f32(0, 3, 0)]);
  assert.equal(b1Index, 1);
  closeAll(b1, [Math.SQRT1_2, Math.SQRT1_2, 0]);
  closeAll(b2, [Math.SQRT1_2, -Math.SQRT1_2, 0]);
  assert.ok(Math.abs(dot(b1, b2)) < 1e-6 && Math.abs(norm(b2) - 1) < 1e-6);
  assert.throws(() => selectivePlane([f32(1, 0)]), /at least 2 points/);
});
