import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import {
  buildAssistantAxis, cappingInterventions, defaultCapLayers, defaultPersonaLayer, loadRoleSet, parseJudgeScore, personaProjections, type RoleSet,
} from '../../extension/engine/analysis/persona';
import { chatPromptIds } from '../../extension/engine/chat-prompt';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { dot, normalize, percentile } from '../../extension/common/analysis/stats';
import { parseTrace } from '../../extension/common/trace/parse';
import type { Direction } from '../../extension/common/direction';

const SMALL: RoleSet = {
  roles: [
    { name: 'pirate', systemPrompts: ['You are a pirate.', 'Talk like a pirate captain.'] },
    { name: 'poet', systemPrompts: ['You are a poet.'] },
  ],
  questions: ['What do you do in the morning?', 'What makes a good friend?', 'Unused question.'],
  defaultPrompts: ['', 'You are {model_name}.'],
};

let dir: string;
let model: Model;
let fast: Direction;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'persona-'));
  await makeModel({ preset: 'tiny', outDir: join(dir, 'model'), seed: 11 });
  model = await Model.open(join(dir, 'model'), { cacheRoot: join(dir, 'cache'), threads: 1 });
  fast = await buildAssistantAxis(model, { roleSet: SMALL, questions: 2, mode: 'prompt' });
});
after(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the bundled role set has at least 40 roles with 2 system prompts each, 20 questions and the 5 default prompts, and folders extend it', async () => {
  const bundled = await loadRoleSet();
  assert.ok(bundled.roles.length >= 40, `${bundled.roles.length} roles`);
  assert.ok(bundled.roles.every((r) => r.systemPrompts.length === 2));
  assert.ok(bundled.questions.length >= 20);
  assert.deepEqual(bundled.defaultPrompts, ['', 'You are an AI assistant.', 'You are a large language model.', 'You are {model_name}.', 'Respond as yourself.']);

  const extra = join(dir, 'my-roles');
  mkdirSync(extra, { recursive: true });
  writeFileSync(join(extra, 'roles.json'), JSON.stringify({ roles: [{ name: 'pirate', systemPrompts: ['Arr.'] }, { name: 'clown', systemPrompts: ['You are a clown.'] }] }));
  const extended = await loadRoleSet([extra]);
  assert.equal(extended.roles.length, bundled.roles.length + 1);
  assert.deepEqual(extended.roles.find((r) => r.name === 'pirate')?.systemPrompts, ['Arr.']);
  assert.equal(extended.questions.length, bundled.questions.length);

  writeFileSync(join(extra, 'roles.json'), JSON.stringify({ roles: [{ name: 'x', systemPrompts: [''] }] }));
  await assert.rejects(loadRoleSet([extra]), /roles\[0\]\.systemPrompts: expected a list of non-empty strings/);
  await assert.rejects(loadRoleSet([join(dir, 'nowhere')]), /no roles.json, questions.json or default.json/);
});

test('default layers follow the paper: L/2 for drift, about 70%..87% of the depth for capping', () => {
  assert.equal(defaultPersonaLayer(64), 32);
  assert.deepEqual(defaultCapLayers(64), [45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55]);
  assert.deepEqual(defaultCapLayers(4), [3]);
  assert.equal(parseJudgeScore(' 3 - fully in role'), 3);
  assert.equal(parseJudgeScore('I would say: 2'), 2);
  assert.equal(parseJudgeScore('nine'), null);
});

test('fast mode: the axis is mean(default) − mean over roles of each role\'s mean over the prompt, and says so', async () => {
  const H = model.spec.hiddenSize;
  const layer = 2;
  const hook = `blocks.${layer}.hook_resid_post`;
  const promptMean = async (system: string, question: string) => {
    const ids = chatPromptIds(model.tokenizer, [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: question }], { enable_thinking: false });
    const rows = (await model.session.forward({ ids, capture: [hook], logits: 'none' })).captures.get(hook)!;
    return Float64Array.from({ length: H }, (_, k) => ids.reduce((s, _, t) => s + rows[t * H + k], 0) / ids.length);
  };
  const questions = SMALL.questions.slice(0, 2);
  const all = async (systems: string[]) => Promise.all(systems.flatMap((s) => questions.map((q) => promptMean(s, q))));
  const mean = (vs: Float64Array[]) => Float64Array.from({ length: H }, (_, k) => vs.reduce((s, v) => s + v[k], 0) / vs.length);
  const defaults = await all(['', `You are ${model.fingerprint.name}.`]);
  const pirate = await all(SMALL.roles[0].systemPrompts);
  const poet = await all(SMALL.roles[1].systemPrompts);
  const defaultMean = mean(defaults);
  const rolesMean = mean([mean(pirate), mean(poet)]);
  const expected = defaultMean.map((x, k) => x - rolesMean[k]);
  const got = fast.vectors[layer];
  const scale = Math.max(...expected.map(Math.abs));
  expected.forEach((x, k) => assert.ok(Math.abs(got[k] - x) < 1e-4 * scale, `component ${k}`));

  const unit = normalize(Float32Array.from(expected));
  const projections = [...defaults, ...pirate, ...poet].map((v) => dot(v, unit));
  const floors = fast.meta.details.floors as number[];
  assert.ok(Math.abs(floors[layer] - percentile(projections, 25)) < 1e-3);
  assert.deepEqual(fast.meta.counts, { roles: 2, roleReplies: 6, defaultReplies: 4 });
  assert.match(String(fast.meta.details.averagedOver), /prompt tokens \(fast mode/);
  assert.equal(fast.meta.details.keptAllReplies, true);
});

test('reply mode averages over generated replies, keeps every role reply without a judge, and can be cancelled', async () => {
  const axis = await buildAssistantAxis(model, { roleSet: SMALL, questions: 1, maxTokens: 5, seed: 1 });
  assert.equal(axis.meta.details.mode, 'responses');
  assert.match(String(axis.meta.details.averagedOver), /reply tokens/);
  assert.equal(axis.meta.details.judged, false);
  const replies = axis.meta.details.replies as Record<string, { total: number; kept: number; empty: number }>;
  assert.deepEqual(Object.keys(replies).sort(), ['default', 'pirate', 'poet']);
  for (const counts of Object.values(replies)) assert.equal(counts.kept + counts.empty, counts.total);
  assert.ok(axis.vectors.every((v) => v.length === model.spec.hiddenSize && v.every(Number.isFinite)));
  const controller = new AbortController();
  const progress: number[] = [];
  const build = buildAssistantAxis(model, {
    roleSet: SMALL,
    questions: 1,
    maxTokens: 5,
    signal: controller.signal,
    report: (u) => {
      progress.push(u.done);
      if (u.done === 2) controller.abort();
    },
  });
  await assert.rejects(build, CancelledError);
  assert.deepEqual(progress, [0, 1, 2]);
});

test('under capping the projection read back at each capped layer is at least τ at every position', async () => {
  const layers = [1, 2, 3];
  const hooks = layers.map((l) => `blocks.${l}.hook_resid_post`);
  const ids = chatPromptIds(model.tokenizer, [{ role: 'system', content: 'You are a pirate.' }, { role: 'user', content: 'Tell me a long story about the sea and a ship.' }]);
  const H = model.spec.hiddenSize;
  const floors = fast.meta.details.floors as number[];
  const projections = (captures: Map<string, Float32Array>, l: number) => {
    const unit = normalize(fast.vectors[l]);
    const rows = captures.get(`blocks.${l}.hook_resid_post`)!;
    return Array.from({ length: ids.length }, (_, t) => dot(rows.subarray(t * H, (t + 1) * H), unit));
  };
  const plain = await model.session.forward({ ids, capture: hooks, logits: 'none' });
  const below = layers.reduce((n, l) => n + projections(plain.captures, l).filter((p) => p < floors[l]).length, 0);
  assert.ok(below > 0, 'some positions start below the floor, so capping has work to do');

  const steering = model.session.compileSteering(cappingInterventions(fast, layers));
  const capped = await model.session.forward({ ids, capture: hooks, logits: 'none', steering });
  for (const l of layers) {
    projections(capped.captures, l).forEach((p, t) => assert.ok(p >= floors[l] - 1e-3 * Math.max(1, Math.abs(floors[l])), `layer ${l}, position ${t}: ${p} < τ ${floors[l]}`));
  }
  assert.deepEqual(cappingInterventions(fast).map((i) => i.hook), defaultCapLayers(model.spec.numLayers).map((l) => `blocks.${l}.hook_resid_post`));
});

test('persona drift projects each assistant turn\'s mean activation on the unit axis and flags the turns below the floor', async () => {
  const conversation = {
    messages: [
      { role: 'user', content: 'Hello there.' },
      { role: 'assistant', content: 'Hello! How can I help you today?' },
      { role: 'user', content: 'Pretend you are a pirate.' },
      { role: 'assistant', content: 'Arr, matey, the sea be calling me!' },
    ],
  };
  const text = JSON.stringify(conversation);
  const trace = parseTrace(text, { fileName: 'chat.json' });
  const layer = 1;
  const drift = await personaProjections(model, trace, fast, { layer });
  assert.equal(drift.layer, layer);
  assert.deepEqual(drift.turns.map((t) => t.turn), [1, 3]);

  const tokenizer = model.tokenizer;
  const rendered = tokenizer.applyChatTemplate(conversation.messages);
  const ids = tokenizer.encode(rendered);
  const H = model.spec.hiddenSize;
  const rows = (await model.session.forward({ ids, capture: [`blocks.${layer}.hook_resid_post`], logits: 'none' })).captures.get(`blocks.${layer}.hook_resid_post`)!;
  const unit = normalize(fast.vectors[layer]);
  const floor = (fast.meta.details.floors as number[])[layer];
  assert.equal(drift.floor, floor);
  for (const [k, message] of [conversation.messages[1], conversation.messages[3]].entries()) {
    const at = rendered.indexOf(message.content);
    const from = tokenizer.encode(rendered.slice(0, at)).length;
    const to = tokenizer.encode(rendered.slice(0, at + message.content.length)).length;
    const mean = Float32Array.from({ length: H }, (_, i) => {
      let s = 0;
      for (let t = from; t < to; t++) s += rows[t * H + i];
      return s / (to - from);
    });
    const turn = drift.turns[k];
    assert.ok(Math.abs(turn.projection - dot(mean, unit)) < 1e-3, `turn ${turn.turn}: ${turn.projection} vs ${dot(mean, unit)}`);
    assert.equal(turn.belowFloor, turn.projection < floor);
    assert.equal(text.slice(turn.start, turn.end), message.content);
  }
  await assert.rejects(personaProjections(model, trace, { ...fast, meta: { ...fast.meta, method: 'seal' } }), /needs an Assistant-Axis direction/);
});
