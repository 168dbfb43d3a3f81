import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECTION_SCHEMA_ID, DirectionError, type Direction } from '../../extension/common/direction';
import type { SteeringChoice } from '../../extension/common/protocol';
import { interventionsForChoice } from '../../extension/engine/directions/presets';

const direction: Direction = {
  meta: { schema: DIRECTION_SCHEMA_ID, name: 'd', method: 'custom', hook: 'hook_resid_pre', layers: [1, 2], hiddenSize: 2, model: null, counts: {}, signConvention: '', createdAt: '', details: {} },
  vectors: [new Float32Array([1, 0]), new Float32Array([0, 1])],
  companions: {},
};

test('a steering slider adds or ablates at the direction\'s hook of each chosen layer', () => {
  const added = interventionsForChoice(direction, { method: 'add', strength: 3, layers: [2] });
  assert.deepEqual(added, [{ hook: 'blocks.2.hook_resid_pre', kind: 'add', vector: new Float32Array([0, 1]), scale: 3, positions: 'all' }]);
  assert.deepEqual(interventionsForChoice(direction, { method: 'ablate', strength: 0 }).map((i) => i.hook), ['blocks.1.hook_resid_pre', 'blocks.2.hook_resid_pre']);
});

test('an unknown steering method (from a client over the protocol) is refused by name', () => {
  const choice = { method: 'push', strength: 1 } as unknown as SteeringChoice;
  assert.throws(() => interventionsForChoice(direction, choice), (e: Error) => e instanceof DirectionError && e.message === 'unknown steering method "push": expected one of add, ablate, cap, rotate');
});
