// The memory budget of one forward: its default from free memory, user values in MiB, and the rows it allows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../extension/engine/checkpoint/config';
import { presetConfig } from '../../extension/engine/make-model/make-model';
import { bytesPerRow, defaultMemoryBudget, logitRowsWithinBudget, memoryBudgetFromMib, rowsWithinBudget } from '../../extension/engine/runtime/memory-budget';

const MIB = 2 ** 20;

test('the default is an eighth of free memory, kept between 128 and 512 MiB', () => {
  assert.equal(defaultMemoryBudget(2048 * MIB), 256 * MIB);
  assert.equal(defaultMemoryBudget(100 * MIB), 128 * MIB);
  assert.equal(defaultMemoryBudget(64 * 1024 * MIB), 512 * MIB);
});

test('a budget in MiB: 0 means the default, a negative one is refused', () => {
  assert.equal(memoryBudgetFromMib(300), 300 * MIB);
  assert.equal(memoryBudgetFromMib(0), defaultMemoryBudget());
  assert.throws(() => memoryBudgetFromMib(-1), /positive number of MiB/);
});

test("rows per forward shrink as the keys grow, so a forward's attention stays within the budget", () => {
  const spec = parseConfig(presetConfig({ preset: 'qwen2.5-0.5b' }));
  const budget = 512 * MIB;
  const rows = [1000, 4000, 16000, 32000].map((keys) => rowsWithinBudget(spec, keys, budget));
  assert.deepEqual([...rows].sort((a, b) => b - a), rows);
  for (const [i, keys] of [1000, 4000, 16000, 32000].entries()) assert.ok(rows[i] * bytesPerRow(spec, keys) <= budget);
  // Three [heads, rows, keys] float32 copies of the scores at 16k keys for every row allowed: under the budget.
  assert.ok(3 * spec.numHeads * rows[2] * 16000 * 4 <= budget);
  assert.equal(rowsWithinBudget(spec, 10_000_000, 1), 1, 'at least one row, however small the budget');
});

test('logits rows (the whole vocabulary each, held twice) fit the budget', () => {
  const spec = parseConfig(presetConfig({ preset: 'qwen2.5-0.5b' }));
  const rows = logitRowsWithinBudget(spec, 512 * MIB);
  assert.ok(rows * 2 * 4 * spec.vocabSize <= 512 * MIB && (rows + 1) * 2 * 4 * spec.vocabSize > 512 * MIB);
  assert.equal(logitRowsWithinBudget(spec, 1), 1);
});
