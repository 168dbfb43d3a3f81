import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import {
  buildAssistantAxis, cappingInterventions, FAST_AXIS, defaultCapLayers, defaultPersonaLayer, loadRoleSet, parseJudgeScore, personaProjections, type RoleSet,
} from '../../extension/engine/analysis/persona';
import { chatPromptIds } from '../../extension/engine/chat-prompt';
import { generate } from '../../extension/engine/runtime/generate';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { dot, normalize } from '../../extension/common/analysis/stats';
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
  fast = await buildAssistantAxis(model, { roleSet: SMALL, ...FAST_AXIS, questions: 2, maxTokens: 12 });
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

test('τ is the chosen percentile of the default assistant\'s replies: about that share of held-out default replies is flagged below it', async () => {
  const questions = Array.from({ length: 24 }, (_, i) => `Question ${i + 1}: what would you tell a friend about topic number ${i + 1}?`);
  const defaults = ['', 'You are an AI assistant.', 'You are a large language model.', 'Respond as yourself.'];
  const roleSet: RoleSet = { roles: SMALL.roles, questions: questions.slice(0, 12), defaultPrompts: defaults };
  const percentileRank = 25;
  const axis = await buildAssistantAxis(model, { roleSet, questions: 12, maxTokens: 12, percentile: percentileRank, seed: 3 });
  assert.match(String(axis.meta.details.floorPopulation), /^default-assistant replies/);
  const layer = axis.meta.details.targetLayer as number;

  // Held out: other questions, other sampling seeds, the same default prompts; each reply read back as drift reads a conversation.
  let below = 0;
  let total = 0;
  for (const [q, question] of questions.slice(12).entries()) {
    for (const [d, system] of defaults.entries()) {
      const messages = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: question }];
      const ids = chatPromptIds(model.tokenizer, messages, { enable_thinking: false });
      const reply: number[] = [];
      for await (const token of generate(model.session, ids, { maxTokens: 12, temperature: 0.7, topP: 0.9, seed: 1000 + 10 * q + d, stopTokens: model.tokenizer.eosIds })) if (token.stop !== 'token') reply.push(token.id);
      const content = model.tokenizer.decode(reply, { skipSpecialTokens: true });
      if (content.trim() === '') continue;
      const drift = await personaProjections(model, parseTrace(JSON.stringify({ messages: [...messages, { role: 'assistant', content }] }), { fileName: 'chat.json' }), axis, { layer });
      if (drift.turns.length !== 1) continue;
      total++;
      if (drift.turns[0].belowFloor) below++;
    }
  }
  assert.ok(total >= 40, `${total} held-out replies`);
  const share = below / total;
  assert.ok(share >= 0.1 && share <= 0.45, `${below} of ${total} held-out default replies below τ (${(100 * share).toFixed(0)}%), expected about ${percentileRank}%`);
});

test('the quick axis asks each role prompt one question while the default assistant answers every question at full length', () => {
  const replies = fast.meta.details.replies as Record<string, { total: number }>;
  assert.deepEqual(Object.fromEntries(Object.entries(replies).map(([name, counts]) => [name, counts.total])), { default: 4, pirate: 2, poet: 1 });
  assert.equal(fast.meta.details.questionsPerPrompt, 2);
  assert.equal(fast.meta.details.questionsPerRolePrompt, 1);
  assert.equal(fast.meta.details.maxTokens, 12);
});

test('reply mode averages over generated replies, keeps every role reply without a judge, and can be cancelled', async () => {
  const axis = await buildAssistantAxis(model, { roleSet: SMALL, questions: 1, maxTokens: 5, seed: 1 });
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
