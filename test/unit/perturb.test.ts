import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPerturbable, mulberry32, perturbAll, perturbNumbers, PERTURBATION_OFFSETS, stepSeed, type PerturbedText } from '../../extension/common/analysis/perturb';

/** Every edit adds exactly its offset, in the original's form (integer or same decimal places). */
function assertEditsExact(original: string, result: PerturbedText) {
  for (const edit of result.edits) {
    assert.equal(original.slice(edit.start, edit.end), edit.original);
    assert.ok(PERTURBATION_OFFSETS.includes(edit.offset));
    const places = (edit.original.split('.')[1] ?? '').length;
    assert.equal((edit.replacement.split('.')[1] ?? '').length, places, `${edit.original} → ${edit.replacement}`);
    assert.equal(Math.round((Number(edit.replacement) - Number(edit.original)) * 10 ** places), edit.offset * 10 ** places);
  }
}

test('every number moves by a nonzero offset of at most 3, and the text around it is kept', () => {
  const text = 'So 12 + 30 = 42, and 42 / 7 = 6.';
  const result = perturbNumbers(text, 100, 0);
  assert.equal(result.perturbed, true);
  assert.equal(result.edits.length, 6);
  assertEditsExact(text, result);
  assert.equal(result.text.replace(/\d+/g, '#'), 'So # + # = #, and # / # = #.');
});

test('the same seed and step give the same result; other steps and seeds draw other offsets', () => {
  const text = Array.from({ length: 12 }, (_, i) => `${i + 10}`).join(' ');
  const offsets = (seed: number, step: number) => perturbNumbers(text, seed, step).edits.map((e) => e.offset).join(',');
  assert.equal(perturbNumbers(text, 7, 3).text, perturbNumbers(text, 7, 3).text);
  assert.notEqual(offsets(7, 3), offsets(7, 4));
  assert.notEqual(offsets(7, 3), offsets(8, 3));
});

test('decimals keep their places, exactly', () => {
  const text = 'x = 3.14, y = 0.1, z = 2.500, w = 007';
  for (let step = 0; step < 20; step++) {
    const result = perturbNumbers(text, 1, step);
    assertEditsExact(text, result);
    assert.match(result.text, /^x = -?\d\.\d\d, y = -?\d\.\d, z = -?\d\.\d\d\d, w = 0\d\d$/);
  }
});

test('signs: negatives shift as numbers and a "+" is kept while the value stays non-negative', () => {
  const text = 'a -3 b +2 c -0.5';
  for (let step = 0; step < 30; step++) {
    const result = perturbNumbers(text, 5, step);
    assertEditsExact(text, result);
    const plus = result.edits[1];
    assert.equal(plus.replacement.startsWith('+'), 2 + plus.offset >= 0);
  }
});

test('all six offsets occur, +3 included, about equally often', () => {
  const counts = new Map<number, number>();
  for (let step = 0; step < 1000; step++) {
    for (const edit of perturbNumbers('1 2 3 4 5 6', 42, step).edits) counts.set(edit.offset, (counts.get(edit.offset) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-3, -2, -1, 1, 2, 3]);
  for (const count of counts.values()) assert.ok(count > 800 && count < 1200, `count ${count} of 6000 draws`);
});

test('a step without a number is not perturbable', () => {
  assert.deepEqual(perturbNumbers('Wait, let me think again.', 100, 0), { text: 'Wait, let me think again.', perturbed: false, edits: [] });
  for (const text of ['Wait, let me think again.', 'x = 3.14', 'step -2', 'two plus two', '']) {
    assert.equal(isPerturbable(text), perturbNumbers(text, 100, 0).perturbed, JSON.stringify(text));
  }
});

test('perturbAll perturbs each step with its own index', () => {
  const steps = [
    { index: 0, range: { start: 0, end: 4 }, text: 'No digits' },
    { index: 1, range: { start: 5, end: 9 }, text: '1 + 1 = 2' },
  ];
  const result = perturbAll(steps, 9);
  assert.deepEqual(result.map((s) => [s.index, s.perturbed]), [[0, false], [1, true]]);
  assert.equal(result[1].text, perturbNumbers('1 + 1 = 2', 9, 1).text);
});

test('mulberry32 is a deterministic stream in [0, 1), and step seeds are distinct', () => {
  const a = mulberry32(123);
  const b = mulberry32(123);
  const draws = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(draws.slice(0, 5), Array.from({ length: 5 }, () => b()));
  assert.ok(draws.every((x) => x >= 0 && x < 1));
  const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05);
  const seeds = new Set(Array.from({ length: 1000 }, (_, i) => stepSeed(100, i)));
  assert.equal(seeds.size, 1000);
});
