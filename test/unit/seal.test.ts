import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyStep, DEFAULT_SEAL_KEYWORDS, validateSealKeywords, type SealKeywords } from '../../extension/common/analysis/seal';

test('reflection: a step starting with "Wait", case-insensitive and after stripping', () => {
  assert.deepEqual(classifyStep('Wait, 2 + 2 is 4, not 5.'), { cls: 'reflection', keyword: 'Wait' });
  assert.deepEqual(classifyStep('  \n wait. Hmm.'), { cls: 'reflection', keyword: 'Wait' });
});

test('reflection keywords anywhere, reported as listed', () => {
  assert.deepEqual(classifyStep('Now I VERIFY the sum.'), { cls: 'reflection', keyword: 'verify' });
  assert.deepEqual(classifyStep('So let me check 12 × 3.'), { cls: 'reflection', keyword: 'Let me check' });
  assert.deepEqual(classifyStep('That’s correct.'), { cls: 'reflection', keyword: "'s correct" });
});

test('reflection is checked before transition', () => {
  assert.deepEqual(classifyStep('Alternatively, to make sure, use another method.'), { cls: 'reflection', keyword: 'make sure' });
});

test('transition: "Alternatively" at the start or another approach anywhere; the typo is fixed', () => {
  assert.deepEqual(classifyStep('Alternatively, factor it.'), { cls: 'transition', keyword: 'Alternatively' });
  assert.deepEqual(classifyStep('Let me think differently about x.'), { cls: 'transition', keyword: 'think differently' });
  assert.deepEqual(classifyStep('There is another way: 3 × 4.'), { cls: 'transition', keyword: 'another way' });
});

test('everything else is execution', () => {
  assert.deepEqual(classifyStep('3 × 4 = 12, so x = 12.'), { cls: 'execution', keyword: null });
  assert.deepEqual(classifyStep('I await the result; alternatively is not at the start.'), { cls: 'execution', keyword: null });
});

test('keyword lists from the settings replace the defaults', () => {
  const code: SealKeywords = {
    reflection: { startsWith: [], contains: ['edge case'] },
    transition: { startsWith: ['Instead'], contains: ['rethink'] },
  };
  assert.deepEqual(classifyStep('Check the edge case n = 0.', code), { cls: 'reflection', keyword: 'edge case' });
  assert.deepEqual(classifyStep('Instead, use a loop.', code), { cls: 'transition', keyword: 'Instead' });
  assert.deepEqual(classifyStep('Wait, really?', code), { cls: 'execution', keyword: null });
});

test('validateSealKeywords accepts the defaults and names what is wrong', () => {
  assert.equal(validateSealKeywords(DEFAULT_SEAL_KEYWORDS), DEFAULT_SEAL_KEYWORDS);
  assert.throws(() => validateSealKeywords(null), /SEAL keywords: expected/);
  assert.throws(() => validateSealKeywords({ reflection: { startsWith: [], contains: [] } }), /"transition" is missing/);
  assert.throws(() => validateSealKeywords({ ...DEFAULT_SEAL_KEYWORDS, transition: { startsWith: 'x', contains: [] } }), /"transition.startsWith" must be an array/);
  assert.throws(() => validateSealKeywords({ ...DEFAULT_SEAL_KEYWORDS, reflection: { startsWith: [], contains: ['ok', ''] } }), /"reflection.contains\[1\]" must be a non-empty string/);
});
