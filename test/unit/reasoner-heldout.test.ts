// The bundled reasoner on traces of held-out problems (never trained on; written by
// tools/train-reasoner): the steps its answer depends on score high, the decorative checks low; a
// TrueThinking direction mined from separate calibration traces makes checks count and true steps stop
// counting where random pushes of the same norm do not; and the SEAL latent view, built on calibration
// traces, tells reflection from execution better than always guessing the commoner class. The Assistant
// Axis, in each mode it is built, places its floor τ among the model's own replies: about the chosen
// percentile of held-out default-assistant replies fall below it, and on a chat the assistant turns stay
// above it while the role-play turns fall below.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../extension/engine/model';
import { parseTrace } from '../../extension/common/trace/parse';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';
import { buildSealDirection } from '../../extension/engine/analysis/seal';
import { mineTrueThinking } from '../../extension/engine/analysis/truethinking-direction';
import { steerStep } from '../../extension/engine/analysis/tts/steer-step';
import { defaultTrueThinkingLayer } from '../../extension/engine/directions/steering-methods';
import { buildAssistantAxis, FAST_AXIS, loadRoleSet, personaProjections } from '../../extension/engine/analysis/persona';
import { directReplyPromptIds } from '../../extension/engine/chat-prompt';
import { generate } from '../../extension/engine/runtime/generate';
import type { Direction } from '../../extension/common/direction';
import type { TraceFile } from '../../extension/common/bundle/trace-file';

const ROOT = join(__dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'media', 'models', 'thinkscope-reasoner');

interface FixtureTrace {
  markdown: string;
  answer: number;
  /** The kind of every step, by construction: goal, true, check or transition. */
  kinds: ('goal' | 'true' | 'check' | 'transition')[];
}
const traces = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'reasoner', 'traces.json'), 'utf8')) as { calibration: FixtureTrace[]; heldout: FixtureTrace[] };

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
/** The paper's scale (the raw difference of means) for engagement; disengagement needs twice that on this model (see its card). */
const ENGAGE_SCALE = 1;
const DISENGAGE_SCALE = 2;
const MIN_STEER_EFFECT = 0.15;

describe('the bundled reasoner on held-out traces', () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'thinkscope-reasoner-'));
  let model: Model;
  before(async () => {
    model = await Model.open(MODEL_DIR, { cacheRoot, threads: 1 });
  });
  after(async () => {
    await model.close();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  const analyze = async (t: FixtureTrace, i: number, seal: Parameters<typeof analyzeDocument>[1]['seal'], tts: boolean) => {
    const { file, sealAgreement } = await analyzeDocument(parseTrace(t.markdown, { fileName: `heldout-${i}.md` }), {
      name: `heldout-${i}.md`, toolVersion: 'test', segmentation: 'paragraph', model, tts: tts ? {} : null, seal, persona: null,
    });
    assert.equal(file.steps.length, t.kinds.length, `trace ${i}: one step per paragraph`);
    return { file, sealAgreement };
  };

  it('scores the steps the answer depends on ≥ 0.9 and the decorative checks ≤ 0.05 (mean TTS)', async () => {
    const byKind: Record<string, number[]> = { true: [], check: [] };
    const files: TraceFile[] = [];
    for (const [i, t] of traces.heldout.entries()) {
      const { file } = await analyze(t, i, null, true);
      files.push(file);
      file.steps.forEach((step, s) => {
        const kind = t.kinds[s];
        if (kind === 'true' || kind === 'check') byKind[kind].push(step.tts!);
        else assert.equal(step.tts, null, `trace ${i} step ${s}: a ${kind} step has no number, so no score`);
      });
    }
    const [trueMean, checkMean] = [mean(byKind.true), mean(byKind.check)];
    console.log(`held-out: mean TTS ${trueMean.toFixed(3)} on ${byKind.true.length} true steps, ${checkMean.toFixed(4)} on ${byKind.check.length} checks`);
    assert.ok(byKind.true.length >= 40 && byKind.check.length >= 15, 'enough steps of each kind to measure');
    assert.ok(trueMean >= 0.9, `true steps: mean TTS ${trueMean}`);
    assert.ok(checkMean <= 0.05, `decorative checks: mean TTS ${checkMean}`);
  });

  it('a TrueThinking direction mined from calibration traces makes checks count and true steps not, where same-norm random pushes do not', async () => {
    const calibration: TraceFile[] = [];
    for (const [i, t] of traces.calibration.entries()) calibration.push((await analyze(t, i, null, true)).file);
    const direction = await mineTrueThinking(model, calibration);
    const layer = defaultTrueThinkingLayer(model.spec.numLayers);
    // The paper's two tests: engagement (a check pushed along the direction) and disengagement (a true step
    // pushed against it), each with steer-step's random vector of the same norm pushed the same way.
    const tests = {
      engagement: { kind: 'check', scale: ENGAGE_SCALE, direction: [] as number[], control: [] as number[] },
      disengagement: { kind: 'true', scale: -DISENGAGE_SCALE, direction: [] as number[], control: [] as number[] },
    };
    for (const [i, t] of traces.heldout.entries()) {
      const parsed = parseTrace(t.markdown, { fileName: `heldout-${i}.md` });
      for (const test of Object.values(tests)) {
        for (const [step, kind] of t.kinds.entries()) {
          if (kind !== test.kind) continue;
          const { before, after, control } = await steerStep(model, parsed, { segmentation: 'paragraph', step, direction, layer, scale: test.scale });
          // The change in the direction the push is meant to move TTS: up for engagement, down for disengagement.
          const sign = Math.sign(test.scale);
          test.direction.push(sign * (after.tts - before.tts));
          test.control.push(sign * (control.tts - before.tts));
        }
      }
    }
    for (const [name, test] of Object.entries(tests)) {
      const [moved, control] = [mean(test.direction), mean(test.control)];
      console.log(`held-out ${name} at layer ${layer}, scale ${test.scale}: mean TTS moves ${moved.toFixed(3)} (random control ${control.toFixed(3)}) on ${test.direction.length} ${test.kind} steps`);
      assert.ok(test.direction.length >= 30, `${test.direction.length} steps`);
      assert.ok(moved >= MIN_STEER_EFFECT && moved >= control + MIN_STEER_EFFECT, `${name}: TTS moves ${moved}, control ${control}`);
    }
  });

  it('separates reflection from execution in the latent view better than the majority class', async () => {
    const calibration = traces.calibration.map((t, i) => ({ name: `calibration-${i}.md`, trace: parseTrace(t.markdown, { fileName: `calibration-${i}.md` }) }));
    // Layer 2 of 4: at layer 3 the first step (whose boundary is the token after <think>) reads as reflection.
    const direction = await buildSealDirection(model, calibration, { layer: 2 });
    let agreeing = 0;
    let scored = 0;
    let execution = 0;
    for (const [i, t] of traces.heldout.entries()) {
      const { file, sealAgreement } = await analyze(t, i, { direction }, false);
      agreeing += sealAgreement!.agreeing;
      scored += sealAgreement!.scored;
      execution += file.steps.filter((s) => s.latentScore !== null && s.sealClass === 'execution').length;
    }
    const rate = agreeing / scored;
    const majority = Math.max(execution, scored - execution) / scored;
    console.log(`held-out: SEAL latent agreement ${rate.toFixed(3)} on ${scored} steps; majority class ${majority.toFixed(3)}`);
    assert.ok(scored >= 100, `${scored} steps scored`);
    assert.ok(rate >= majority + 0.1, `latent agreement ${rate} vs majority-class rate ${majority}`);
  });

  // Each axis-building mode the product offers (the paper's and the quick one), built once for the tests below.
  const axisModes = { full: {}, quick: FAST_AXIS } as const;
  const axes = new Map<keyof typeof axisModes, Promise<Direction>>();
  const axisOf = (mode: keyof typeof axisModes) => {
    if (!axes.has(mode)) axes.set(mode, loadRoleSet().then((roleSet) => buildAssistantAxis(model, { roleSet, ...axisModes[mode] })));
    return axes.get(mode)!;
  };
  interface ReplySettings { questionsPerPrompt: number; maxTokens: number; temperature: number; topP: number }
  // Held out: the questions an axis was not built from, under every default prompt, sampled as its own
  // replies were (generated once per set of settings, shared by the modes that agree on them).
  const heldOut = new Map<string, Promise<string[]>>();
  const heldOutChats = (settings: ReplySettings) => {
    const key = JSON.stringify(settings);
    if (!heldOut.has(key)) heldOut.set(key, generateHeldOut(settings));
    return heldOut.get(key)!;
  };
  const generateHeldOut = async ({ questionsPerPrompt, maxTokens, temperature, topP }: ReplySettings) => {
    const roleSet = await loadRoleSet();
    const chats: string[] = [];
    for (const [q, question] of roleSet.questions.slice(questionsPerPrompt).entries()) {
      for (const [d, system] of roleSet.defaultPrompts.entries()) {
        const systemPrompt = system.replaceAll('{model_name}', model.fingerprint.name);
        const messages = [...(systemPrompt ? [{ role: 'system' as const, content: systemPrompt }] : []), { role: 'user' as const, content: question }];
        const reply: number[] = [];
        const settings = { maxTokens, temperature, topP, seed: 1000 + 10 * q + d, stopTokens: model.tokenizer.eosIds };
        for await (const token of generate(model.session, directReplyPromptIds(model.tokenizer, messages), settings)) if (token.stop !== 'token') reply.push(token.id);
        chats.push(JSON.stringify({ messages: [...messages, { role: 'assistant', content: model.tokenizer.decode(reply, { skipSpecialTokens: true }) }] }));
      }
    }
    return chats;
  };

  for (const mode of Object.keys(axisModes) as (keyof typeof axisModes)[]) {
    it(`${mode} Assistant Axis: about the chosen percentile of held-out default-assistant replies fall below τ`, async () => {
      const axis = await axisOf(mode);
      const details = axis.meta.details as unknown as ReplySettings & { percentile: number };
      const { questionsPerPrompt, maxTokens, temperature, topP } = details;
      let below = 0;
      let total = 0;
      for (const chat of await heldOutChats({ questionsPerPrompt, maxTokens, temperature, topP })) {
        // Read back as persona drift reads a chat: the flag under test is the product's own.
        const drift = await personaProjections(model, parseTrace(chat, { fileName: 'chat.json' }), axis);
        if (drift.turns.length === 0) continue; // a reply that is all thinking has no turn to project
        total++;
        if (drift.turns[0].belowFloor) below++;
      }
      const share = below / total;
      console.log(`${mode} axis: ${below} of ${total} held-out default-assistant replies below τ (${(100 * share).toFixed(0)}%; τ is the ${details.percentile}th percentile)`);
      assert.ok(total >= 80, `${total} held-out replies`);
      // The floor is a percentile of m replies and the share is counted over n others, so the share spreads
      // around p with variance p(1 − p)(1/(m + 2) + 1/n) (the Beta law of a sample quantile's coverage, plus
      // the binomial count): within two standard deviations (about ±19 points for 25 and 85 replies).
      const p = details.percentile / 100;
      const m = axis.meta.counts.defaultReplies;
      const spread = 2 * Math.sqrt(p * (1 - p) * (1 / (m + 2) + 1 / total));
      assert.ok(Math.abs(share - p) <= spread, `${(100 * share).toFixed(0)}% of held-out default replies below τ, expected ${details.percentile}% ± ${(100 * spread).toFixed(0)}`);
    });

    it(`${mode} Assistant Axis: the chat's assistant turns stay above the floor and its role-play turns fall below it`, async () => {
      const axis = await axisOf(mode);
      const chat = readFileSync(join(ROOT, 'media', 'samples', 'reasoner-chat.json'), 'utf8');
      const drift = await personaProjections(model, parseTrace(chat, { fileName: 'reasoner-chat.json' }), axis);
      console.log(`${mode} axis on reasoner-chat.json: τ ${drift.floor?.toFixed(2)}, turns ${drift.turns.map((t) => `${t.turn}: ${t.projection.toFixed(2)}`).join(', ')}`);
      const [assistant1, assistant2, role1, role2] = drift.turns;
      assert.equal(drift.turns.length, 4);
      for (const turn of [assistant1, assistant2]) assert.ok(!turn.belowFloor, `assistant turn ${turn.turn}: ${turn.projection} ≥ τ ${drift.floor}`);
      for (const turn of [role1, role2]) assert.ok(turn.belowFloor, `pirate turn ${turn.turn}: ${turn.projection} < τ ${drift.floor}`);
      assert.ok(Math.max(role1.projection, role2.projection) < Math.min(assistant1.projection, assistant2.projection), 'role play projects lower than every assistant turn');
    });
  }
});
