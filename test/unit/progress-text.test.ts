import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTimeLeft, ProgressWords } from '../../extension/common/progress-text';

test('a message that counts its steps is not counted twice; one that does not gets "n of N"', () => {
  const words = new ProgressWords(() => 0);
  assert.equal(words.words({ message: 'True Thinking Score: step 12 of 37', done: 12, total: 37 }), 'True Thinking Score: step 12 of 37');
  assert.equal(words.words({ message: 'reading sample.md', done: 2, total: 5 }), 'reading sample.md — 2 of 5');
  assert.equal(words.words({ message: 'building the SEAL vector', done: 0, total: 0 }), 'building the SEAL vector');
});

test('the time left follows the pace of the phase so far', () => {
  let now = 0;
  const words = new ProgressWords(() => now);
  assert.equal(words.words({ message: 'True Thinking Score: step 0 of 37', done: 0, total: 37 }), 'True Thinking Score: step 0 of 37');
  now = 10_000; // 10 steps in 10 s: 27 steps left take about 27 s
  assert.equal(words.words({ message: 'True Thinking Score: step 10 of 37', done: 10, total: 37 }), 'True Thinking Score: step 10 of 37, about 25 s left');
  now = 20_000; // a new phase starts its own clock
  assert.equal(words.words({ message: 'projecting steps on the directions', done: 0, total: 4 }), 'projecting steps on the directions — 0 of 4');
  now = 140_000;
  assert.equal(words.words({ message: 'projecting steps on the directions', done: 1, total: 4 }), 'projecting steps on the directions — 1 of 4, about 6 min left');
  assert.equal(words.words({ message: 'projecting steps on the directions', done: 4, total: 4 }), 'projecting steps on the directions — 4 of 4');
});

test('time left in words', () => {
  assert.equal(formatTimeLeft(0.4), 'about 1 s left');
  assert.equal(formatTimeLeft(42), 'about 40 s left');
  assert.equal(formatTimeLeft(125), 'about 2 min left');
  assert.equal(formatTimeLeft(3900), 'about 1 h 5 min left');
});
