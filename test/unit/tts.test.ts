import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confidenceFromLogProbs, logSoftmax, logSumExp, tokenLogProb, trueThinking, ttsBucket } from '../../extension/common/analysis/tts';

const close = (actual: number, expected: number, tolerance = 1e-9) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

test('ATE(1), ATE(0) and TTS from the four confidences', () => {
  const result = trueThinking({ s11: 0.9, s01: 0.2, s10: 0.5, s00: 0.6 });
  close(result.ate1, 0.7);
  close(result.ate0, -0.1);
  close(result.tts, 0.4);
  assert.equal(trueThinking({ s11: 1, s01: 0, s10: 1, s00: 0 }).tts, 1);
  assert.equal(trueThinking({ s11: 0.3, s01: 0.3, s10: 0.8, s00: 0.8 }).tts, 0);
});

test('confidences outside [0, 1] are refused by name', () => {
  assert.throws(() => trueThinking({ s11: 1.2, s01: 0, s10: 0, s00: 0 }), /s11 = 1.2/);
  assert.throws(() => trueThinking({ s11: 0, s01: NaN, s10: 0, s00: 0 }), /s01 = NaN/);
});

test('buckets use the paper\'s thresholds', () => {
  assert.deepEqual([0, 0.005, 0.006, 0.69, 0.7, 1].map(ttsBucket), ['decorative', 'decorative', 'intermediate', 'intermediate', 'true', 'true']);
});

test('teacher-forced confidence multiplies token probabilities, floored at e^-50', () => {
  close(confidenceFromLogProbs([Math.log(0.5), Math.log(0.4)]), 0.2);
  close(confidenceFromLogProbs(new Float32Array([-30, -30])), Math.exp(-50), 1e-30);
  assert.throws(() => confidenceFromLogProbs([]), /at least one token/);
  assert.throws(() => confidenceFromLogProbs([0.5]), /expected a value ≤ 0/);
});

test('log-softmax is exact on small rows and stable on huge logits', () => {
  const small = logSoftmax(new Float32Array([0, Math.log(3)]));
  close(small[0], Math.log(0.25), 1e-6);
  close(small[1], Math.log(0.75), 1e-6);
  const huge = logSoftmax(new Float32Array([1000, 1000, -Infinity]));
  close(huge[0], -Math.LN2, 1e-6);
  close(huge[1], -Math.LN2, 1e-6);
  assert.equal(huge[2], -Infinity);
  close(logSumExp([-1000, -1000]), -1000 + Math.LN2);
  close(tokenLogProb(new Float32Array([2, 2, 2, 2]), 3), -Math.log(4), 1e-6);
  assert.throws(() => tokenLogProb(new Float32Array(4), 4), /outside the vocabulary/);
});
