import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignSteps, similarity } from '../../extension/common/analysis/align';

test('identical replies align step for step', () => {
  const steps = ['First add 3 and 4.', 'That gives 7.', 'So the answer is 7.'];
  assert.deepEqual(alignSteps(steps, steps), [
    [0, 0],
    [1, 1],
    [2, 2],
  ]);
});

test('a step inserted by steering is marked as having no counterpart', () => {
  const baseline = ['First add 3 and 4.', 'So the answer is 7.'];
  const steered = ['First add 3 and 4.', 'Wait, let me verify the sum again.', 'So the answer is 7.'];
  assert.deepEqual(alignSteps(baseline, steered), [
    [0, 0],
    [-1, 1],
    [1, 2],
  ]);
});

test('unrelated steps are not paired', () => {
  const pairs = alignSteps(['apples and pears'], ['zebra crossing']);
  assert.equal(pairs.length, 2);
  assert.ok(pairs.every(([i, j]) => i === -1 || j === -1), 'no pair joins unrelated steps');
  assert.equal(similarity('a b', 'a c'), 1 / 3);
});
