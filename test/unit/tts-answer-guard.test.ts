// Guards on the scored answer: the model's own answer after the whole trace is read and compared with
// the scored one, a trace without a \boxed{} answer is never scored against its whole reply, and a
// trace whose answer the model does not give even after the whole thinking is marked uninformative.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../extension/common/trace/parse';
import { answerWarnings, UNINFORMATIVE_MAX_S } from '../../extension/common/analysis/tts';
import { annotateTrace } from '../../extension/engine/analysis/tts/annotate';
import { Model } from '../../extension/engine/model';
import { ANSWER } from '../support/one-step-model';
import { closeModelPair, openModelPair } from '../support/model-pair';

const REASONING = 'First we count 3 pears and 4 plums. So we keep 5 apples. The basket holds 9 items in total.';

function trace(reply: string) {
  return parseTrace(JSON.stringify({ messages: [{ role: 'user', content: 'How many are left?' }, { role: 'assistant', reasoning_content: REASONING, content: reply }] }), { fileName: 'trace.json' });
}

describe('the scored answer', () => {
  let root: string;
  let random: Model;
  let oneStep: Model;
  const annotate = (model: Model, reply: string, tts: { answer?: string; answerFrom?: 'trace' | 'model' } = {}) =>
    annotateTrace(trace(reply), { name: 'trace.json', toolVersion: 'test', segmentation: 'sentence', model, tts });

  before(async () => {
    ({ root, random, oneStep } = await openModelPair('tts-answer-', { arch: 'qwen2', seed: 11 }));
  });
  after(() => closeModelPair({ root, random, oneStep }));

  it('a model that gives the answer after the whole trace scores informatively; its own answer is read greedily to the brace and told apart when it differs', async () => {
    const file = await annotate(oneStep, `\\boxed{${ANSWER}}`);
    const check = file.answerCheck!;
    assert.equal(check.tts, 'scored');
    assert.ok(check.confidence > 0.9, `S after the whole trace: ${check.confidence}`);
    assert.equal(check.traceAnswer, ANSWER);
    // This hand-set model writes "8" after every token and never a closing brace: 20 greedy tokens, not the scored "8".
    assert.equal(check.modelAnswer, ANSWER.repeat(20));
    assert.equal(check.agrees, false);
    assert.deepEqual(answerWarnings(check, ANSWER), [`the model's own answer after the trace is "${ANSWER.repeat(20)}", not the scored "${ANSWER}"`]);
  });

  it('a trace without \\boxed{} is never scored against its whole reply: it needs an answer, or the model\'s own', async () => {
    await assert.rejects(annotate(oneStep, 'There are 9 items.'), /the trace has no \\boxed\{\} answer: give the answer to score \(--answer TEXT\), or score the model's own answer after the trace, ".*" \(--answer-from model\)/);
    const own = await annotate(oneStep, 'There are 9 items.', { answerFrom: 'model' });
    assert.equal(own.settings.answer, own.answerCheck!.modelAnswer);
    assert.equal(own.answerCheck!.agrees, true);
    assert.equal(own.answerCheck!.traceAnswer, null);
    const given = await annotate(oneStep, 'There are 9 items.', { answer: ANSWER });
    assert.equal(given.settings.answer, ANSWER);
  });

  it('an answer the model does not give even after the whole trace makes every TTS uninformative, and a different answer of its own is said', async () => {
    const file = await annotate(random, '\\boxed{19 pears}');
    const check = file.answerCheck!;
    assert.ok(check.confidence <= UNINFORMATIVE_MAX_S, `S = ${check.confidence}`);
    assert.equal(check.tts, 'uninformative');
    assert.ok(file.steps.some((s) => s.tts !== null), 'the numbers are kept, marked by the state');
    const warnings = answerWarnings(check, '19 pears');
    assert.match(warnings[0], /^TTS is uninformative: after the whole trace the model gives the answer "19 pears" S = /);
    if (!check.agrees) assert.match(warnings[1], new RegExp(`the model's own answer after the trace is ".*", not the scored "19 pears"`));
  });

  it('a trace without its question (a DeepSeek API response holds only the reply) is scored and says that S is read without the question', async () => {
    const response = JSON.stringify({ choices: [{ message: { role: 'assistant', reasoning_content: REASONING, content: `\\boxed{${ANSWER}}` } }] });
    const file = await annotateTrace(parseTrace(response, { fileName: 'response.json' }), { name: 'response.json', toolVersion: 'test', segmentation: 'sentence', model: oneStep, tts: {} });
    assert.equal(file.answerCheck!.question, false);
    assert.ok(file.steps.some((s) => s.tts !== null));
    assert.ok(answerWarnings(file.answerCheck!, ANSWER).some((w) => /the trace holds no question/.test(w)));
    const asked = await annotate(oneStep, `\\boxed{${ANSWER}}`);
    assert.equal(asked.answerCheck!.question, true);
    assert.ok(!answerWarnings(asked.answerCheck!, ANSWER).some((w) => /no question/.test(w)));
  });
});
