import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECTION_SCHEMA_ID, DirectionError, type Direction } from '../../extension/common/direction';
import type { SteeringChoice } from '../../extension/common/protocol';
import { interventionsForChoice } from '../../extension/engine/directions/steering-methods';
import { describeRule, steeringRule } from '../../extension/common/steering-rule';

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
  assert.throws(() => interventionsForChoice(direction, choice), (e: Error) => e instanceof DirectionError && e.message === 'unknown steering method "push": expected one of calibrate, add, ablate, cap, rotate');
});

const meta = direction.meta;

test('a rotate slider turns in the Selective Steering plane at both norm points of the chosen blocks only', () => {
  const selective: Direction = {
    meta: { ...meta, method: 'selective', hook: 'ln1.hook_normalized', details: { hooks: ['ln1.hook_normalized', 'ln2.hook_normalized'] } },
    vectors: [new Float32Array([1, 0]), new Float32Array([1, 0])],
    companions: { b2: [new Float32Array([0, 1]), new Float32Array([0, 1])] },
  };
  const rotated = interventionsForChoice(selective, { method: 'rotate', strength: 30, layers: [2] });
  assert.deepEqual(rotated, [
    { hook: 'blocks.2.ln1.hook_normalized', kind: 'rotate', plane: [new Float32Array([1, 0]), new Float32Array([0, 1])], degrees: 30 },
    { hook: 'blocks.2.ln2.hook_normalized', kind: 'rotate', plane: [new Float32Array([1, 0]), new Float32Array([0, 1])], degrees: 30 },
  ]);
  assert.deepEqual(interventionsForChoice(selective, { method: 'rotate', strength: 30 }).map((i) => i.hook), [
    'blocks.1.ln1.hook_normalized', 'blocks.1.ln2.hook_normalized', 'blocks.2.ln1.hook_normalized', 'blocks.2.ln2.hook_normalized',
  ]);
  assert.throws(() => interventionsForChoice(direction, { method: 'rotate', strength: 30 }), /rotation needs a Selective Steering direction/);
});

test('a cap slider floors the Assistant Axis at its capping layers unless layers are chosen, and needs an axis', () => {
  const axis: Direction = { ...direction, meta: { ...meta, method: 'assistant-axis', hook: 'hook_resid_post', details: { floors: [0.5, -1], capLayers: [2] } } };
  assert.deepEqual(interventionsForChoice(axis, { method: 'cap', strength: 0 }), [
    { hook: 'blocks.2.hook_resid_post', kind: 'cap', direction: new Float32Array([0, 1]), min: -1, positions: 'all' },
  ]);
  assert.deepEqual(interventionsForChoice(axis, { method: 'cap', strength: 0, layers: [1, 2] }).map((i) => i.kind === 'cap' && i.min), [0.5, -1]);
  assert.throws(() => interventionsForChoice(direction, { method: 'cap', strength: 0 }), /this needs an Assistant-Axis direction/);
});

test('SEAL calibration subtracts c·v at the layer the direction was built at, and only a SEAL direction calibrates', () => {
  const seal: Direction = { ...direction, meta: { ...meta, method: 'seal', details: { layer: 2 } } };
  assert.deepEqual(interventionsForChoice(seal, { method: 'calibrate', strength: 1.5 }), [
    { hook: 'blocks.2.hook_resid_pre', kind: 'add', vector: new Float32Array([0, 1]), scale: -1.5, positions: 'all' },
  ]);
  assert.throws(() => interventionsForChoice(direction, { method: 'calibrate', strength: 1 }), /SEAL calibration needs a SEAL direction/);
  assert.equal(
    describeRule(steeringRule(seal.meta, { method: 'calibrate', strength: 1.5 })),
    'h − 1.5·v (SEAL calibration, c = 1.5) at hook_resid_pre of layer 2, at the "\\n\\n" step-boundary tokens the model generates inside <think> (not the prompt, not after </think>)',
  );
  assert.equal(describeRule(steeringRule(meta, { method: 'add', strength: 2 })), 'h + 2·v (added at every position) at hook_resid_pre of layers 1, 2, at every position, prompt and reply');
});
