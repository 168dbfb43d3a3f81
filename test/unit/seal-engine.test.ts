import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { annotateSeal, buildSealDirection, defaultSealLayer } from '../../extension/engine/analysis/seal';
import { generationSteering } from '../../extension/engine/directions/steering-methods';
import type { StepContext } from '../../extension/engine/runtime/generate';
import type { Steering } from '../../extension/engine/runtime/decoder-session';
import { thinkingPrompt } from '../../extension/engine/analysis/trace-steps';
import { chatPromptIds } from '../../extension/engine/chat-prompt';
import { generate } from '../../extension/engine/runtime/generate';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { parseTrace } from '../../extension/common/trace/parse';
import { dot, normalize } from '../../extension/common/analysis/stats';
import type { StepAnnotation } from '../../extension/common/bundle/trace-file';
import { unscoredStep } from '../../extension/common/bundle/trace-write';
import type { Direction } from '../../extension/common/direction';

// Blank-line steps after the first paragraph, with their SEAL classes.
const TRACES = [
  { question: 'What is 2+2?', steps: [['Add two and two.', 'execution'], ['Wait, let me verify that.', 'reflection'], ['Alternatively, count on fingers.', 'transition'], ['So the sum is four.', 'execution']] },
  { question: 'Is 7 prime?', steps: [['Check divisors up to 2.', 'execution'], ['Hold on, make sure about 3.', 'reflection'], ['It has no divisor.', 'execution']] },
] as const;

function traceJson(question: string, steps: readonly (readonly [string, string])[]): string {
  const thinking = ['Let me think.', ...steps.map(([text]) => text)].join('\n\n');
  return JSON.stringify({ messages: [{ role: 'user', content: question }, { role: 'assistant', content: `<think>\n${thinking}\n</think>\n\nDone.` }] });
}

let dir: string;
let model: Model;
let direction: Direction;
const layer = 2;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'seal-'));
  await makeModel({ preset: 'tiny', outDir: join(dir, 'model'), seed: 3 });
  model = await Model.open(join(dir, 'model'), { cacheRoot: join(dir, 'cache'), threads: 1 });
  const traces = TRACES.map((t, i) => ({ name: `t${i}.json`, trace: parseTrace(traceJson(t.question, t.steps), { fileName: `t${i}.json` }) }));
  direction = await buildSealDirection(model, traces, { layer });
});
after(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The resid_pre rows at every "\n\n" token of the thinking, computed without the module's step mapping. */
async function boundaryStates(question: string, steps: readonly (readonly [string, string])[], l: number) {
  const tokenizer = model.tokenizer;
  const thinking = ['Let me think.', ...steps.map(([text]) => text)].join('\n\n');
  const prompt = thinkingPrompt(tokenizer, [{ role: 'user', content: question }]);
  const ids = tokenizer.encode(prompt + thinking);
  const promptLength = tokenizer.encode(prompt).length;
  const positions = ids.map((id, p) => (p >= promptLength && tokenizer.tokenText(id).includes('\n\n') ? p : -1)).filter((p) => p >= 0);
  assert.equal(positions.length, steps.length, 'one blank-line token before each step');
  const H = model.spec.hiddenSize;
  const rows = (await model.session.forward({ ids, capture: [`blocks.${l}.hook_resid_pre`], logits: 'none' })).captures.get(`blocks.${l}.hook_resid_pre`)!;
  return positions.map((p) => rows.slice(p * H, (p + 1) * H));
}

test('the SEAL vector is mean(reflection ∪ transition) − mean(execution) at the boundary tokens, per layer, with its counts', async () => {
  const { meta } = direction;
  assert.equal(meta.method, 'seal');
  assert.equal(meta.hook, 'hook_resid_pre');
  assert.deepEqual(meta.layers, [0, 1, 2, 3]);
  assert.deepEqual(meta.counts, { execution: 4, reflection: 2, transition: 1, traces: 2 });
  assert.equal(meta.details.layer, layer);
  assert.equal(defaultSealLayer(28), 20);
  for (const l of [1, 3]) {
    const rt: Float32Array[] = [];
    const execution: Float32Array[] = [];
    for (const trace of TRACES) {
      const states = await boundaryStates(trace.question, trace.steps, l);
      trace.steps.forEach(([, cls], i) => (cls === 'execution' ? execution : rt).push(states[i]));
    }
    const mean = (vs: Float32Array[], i: number) => vs.reduce((s, v) => s + v[i], 0) / vs.length;
    const expected = Float32Array.from({ length: model.spec.hiddenSize }, (_, i) => mean(rt, i) - mean(execution, i));
    const got = direction.vectors[l];
    const scale = Math.max(...expected.map(Math.abs));
    expected.forEach((x, i) => assert.ok(Math.abs(got[i] - x) < 1e-4 * scale, `layer ${l}, component ${i}: ${got[i]} vs ${x}`));
  }
});

test('each analyzed step gets its keyword class, the matched keyword, and its latent score at the token before it', async () => {
  const [first] = TRACES;
  const text = traceJson(first.question, first.steps);
  const trace = parseTrace(text, { fileName: 'a.json' });
  const reasoning = trace.conversations[0].turns[1].reasoning!;
  // The analysis cuts the whole thinking into blank-line steps ("Let me think." included).
  const steps: StepAnnotation[] = [];
  const decoded = ['Let me think.', ...first.steps.map(([t]) => t)];
  let cursor = reasoning.start;
  for (const [index, stepText] of decoded.entries()) {
    const start = text.indexOf(stepText, cursor);
    cursor = start + stepText.length;
    steps.push(unscoredStep({ index, start, end: cursor, text: stepText, perturbable: false }));
  }
  const result = await annotateSeal(model, trace, steps, { direction });
  assert.deepEqual(result.steps.map((s) => s.sealClass), ['execution', 'execution', 'reflection', 'transition', 'execution']);
  assert.deepEqual(result.steps.map((s) => s.sealKeyword), [null, null, 'Wait', 'Alternatively', null]);

  const states = await boundaryStates(first.question, first.steps, layer);
  const unit = normalize(direction.vectors[layer]);
  result.steps.slice(1).forEach((step, i) => assert.ok(Math.abs(step.latentScore! - dot(states[i], unit)) < 1e-3, `step ${i + 1}`));
  assert.notEqual(result.steps[0].latentScore, null, 'the first step is read at the token before it too');

  const threshold = (direction.meta.details.thresholds as number[])[layer];
  const agreeing = result.steps.filter((s) => (s.latentScore! > threshold) === (s.sealClass !== 'execution')).length;
  // This trace made the vector, so its agreement is not held out; three of five steps are execution, the commoner class.
  assert.deepEqual(result.agreement, { layer, heldOut: false, threshold, scored: 5, agreeing, rate: agreeing / 5, majority: 3 });
  const unseen = parseTrace(traceJson('What is 3+3?', first.steps), { fileName: 'b.json' });
  // The same length of question: the steps sit at the same places.
  assert.equal((await annotateSeal(model, unseen, steps, { direction })).agreement?.heldOut, true, 'a trace the vector never saw is held out');

  const withoutDirection = await annotateSeal(model, trace, steps);
  assert.equal(withoutDirection.agreement, null);
  assert.ok(withoutDirection.steps.every((s) => s.latentScore === null && s.sealClass !== null));
});

/** SEAL calibration as every front end gets it: a per-token policy, and no steering in the prompt pass. */
function calibration(promptIds: number[], c: number): (step: StepContext) => Steering | undefined {
  const made = generationSteering(model, promptIds, [{ direction, choice: { method: 'calibrate', strength: c } }]);
  assert.equal(made.promptSteering, undefined, 'the prompt pass is never steered');
  assert.equal(typeof made.steering, 'function');
  return made.steering as (step: StepContext) => Steering | undefined;
}

test('calibrated generation edits exactly the "\\n\\n" tokens inside the thinking, by −c·vector, decided token by token', async () => {
  const tokenizer = model.tokenizer;
  const hook = `blocks.${layer}.hook_resid_pre`;
  const H = model.spec.hiddenSize;
  const c = 2.5;
  const promptIds = chatPromptIds(tokenizer, [{ role: 'user', content: 'What is 2+2?' }]);
  assert.equal(promptIds.at(-2), tokenizer.thinkStartId, 'the reasoning template leaves <think> open');
  const script = tokenizer.encode('Add them.\n\nWait, check.\n\nSo four.</think>\n\nThe answer is four.\n\nDone');
  const end = script.indexOf(tokenizer.thinkEndId!);
  const expected = script.map((id, i) => i < end && tokenizer.tokenText(id).includes('\n\n'));
  assert.equal(expected.filter(Boolean).length, 2);
  assert.ok(script.slice(end).some((id) => tokenizer.tokenText(id).includes('\n\n')), 'the reply has blank lines, which must stay unsteered');

  // Feed the script one token at a time, as generate does, asking the policy at every step.
  const policy = calibration(promptIds, c);
  let cache = (await model.session.forward({ ids: promptIds, logits: 'none' })).cache;
  const steeredRows: Float32Array[] = [];
  for (let i = 0; i < script.length; i++) {
    const steering = policy({ position: cache.length, inputToken: script[i], generated: script.slice(0, i + 1) });
    const result = await model.session.forward({ ids: [script[i]], cache, steering, capture: [hook], logits: 'none' });
    steeredRows.push(result.captures.get(hook)!);
    cache = result.cache;
  }
  const plain = (await model.session.forward({ ids: [...promptIds, ...script], capture: [hook], logits: 'none' })).captures.get(hook)!;
  const v = direction.vectors[layer];
  script.forEach((_, i) => {
    const p = promptIds.length + i;
    const delta = steeredRows[i].map((x, k) => x - plain[p * H + k]);
    const target = expected[i] ? v.map((x) => -c * x) : new Float32Array(H);
    const error = Math.max(...delta.map((d, k) => Math.abs(d - target[k])));
    assert.ok(error < 1e-3, `token ${i} (${JSON.stringify(tokenizer.tokenText(script[i]))}): ${expected[i] ? 'should be steered' : 'should be untouched'}, off by ${error}`);
  });
});

test('through generate, the positions that changed are exactly the thinking boundary tokens the reply produced', async () => {
  const tokenizer = model.tokenizer;
  const hook = `blocks.${layer}.hook_resid_pre`;
  const H = model.spec.hiddenSize;
  const promptIds = chatPromptIds(tokenizer, [{ role: 'user', content: 'Count to ten.' }]);
  const policy = calibration(promptIds, 1);
  const rows: Float32Array[] = [];
  const ids: number[] = [];
  for await (const token of generate(model.session, promptIds, { maxTokens: 24, steering: policy, capture: [hook] })) {
    rows.push(token.captures.get(hook)!);
    ids.push(token.id);
  }
  const plain = (await model.session.forward({ ids: [...promptIds, ...ids], capture: [hook], logits: 'none' })).captures.get(hook)!;
  assert.ok(rows[0].every((x, k) => Math.abs(x - plain[k]) < 1e-3), 'the prompt pass is never steered');
  // A generated token closes a step when decoding through it adds a newline that ends a blank line.
  const blankLineEnds = (n: number) => [...tokenizer.decode([...promptIds, ...ids.slice(0, n)]).matchAll(/(?<=\n[ \t\r]*)\n/g)].length;
  let thinking = true;
  for (let i = 1; i < rows.length; i++) {
    const input = ids[i - 1];
    if (input === tokenizer.thinkEndId) thinking = false;
    const steered: boolean = thinking && blankLineEnds(i) > blankLineEnds(i - 1);
    const p = promptIds.length + i - 1;
    const changed = rows[i].some((x, k) => Math.abs(x - plain[p * H + k]) > 1e-3);
    assert.equal(changed, steered, `generated token ${i - 1}`);
  }
});

test('wrong directions, a model without thinking tokens and cancellation get clear messages', async () => {
  const notSeal = { ...direction, meta: { ...direction.meta, method: 'assistant-axis' as const } };
  assert.throws(() => generationSteering(model, [1], [{ direction: notSeal, choice: { method: 'calibrate', strength: 1 } }]), /needs a SEAL direction/);
  const controller = new AbortController();
  controller.abort();
  const trace = { name: 'x', trace: parseTrace(traceJson(TRACES[0].question, TRACES[0].steps), { fileName: 'x.json' }) };
  await assert.rejects(buildSealDirection(model, [trace], { signal: controller.signal }), CancelledError);
  const noReflection = { name: 'y', trace: parseTrace(traceJson('Q', [['Add.', 'execution'], ['Sum.', 'execution']]), { fileName: 'y.json' }) };
  await assert.rejects(buildSealDirection(model, [noReflection]), /2 execution and 0 reflection\/transition steps/);
});
