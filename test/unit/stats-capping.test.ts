import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capToFloor, cappingFloor, cappingFloors, projectOnto } from '../../extension/common/analysis/capping';

const f32 = (...values: number[]) => new Float32Array(values);

test('projection uses the unit axis and the raw activation', () => {
  assert.equal(projectOnto(f32(3, 4), f32(0, 2)), 4);
  assert.equal(projectOnto(f32(3, 4), f32(-5, 0)), -3);
});

test('the floor is the 25th percentile of the layer\'s projections by default', () => {
  assert.equal(cappingFloor([5, 1, 4, 2, 3]), 2);
  assert.equal(cappingFloor([1, 2, 3, 4], 50), 2.5);
  assert.deepEqual(cappingFloors([[1, 2, 3, 4], [10, 20, 30, 40, 50]]), [1.75, 20]);
});

test('capping lifts a projection below the floor to the floor and leaves others untouched', () => {
  assert.deepEqual([...capToFloor(f32(1, -2), f32(0, 3), 1)], [1, 1]);
  const lifted = capToFloor(f32(0.5, 0.5), f32(1, 1), 2);
  assert.ok(Math.abs(projectOnto(lifted, f32(1, 1)) - 2) < 1e-6);
  assert.ok(Math.abs(lifted[0] - lifted[1]) < 1e-7);
  const above = f32(0, 5);
  const kept = capToFloor(above, f32(0, 1), 1);
  assert.deepEqual([...kept], [0, 5]);
  assert.notEqual(kept, above);
});
