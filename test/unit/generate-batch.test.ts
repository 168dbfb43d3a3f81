// Replies decoded together (generateBatch) are the replies decoded one by one: the same tokens and
// logits for a baseline and a steered reply, with fixed steering, a per-step policy and sliding-window
// attention (positions matter there), and a reply that stops early leaves the other running.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { generate, generateBatch, type BatchReply, type GenerateOptions } from '../../extension/engine/runtime/generate';
import type { Steering } from '../../extension/engine/runtime/decoder-session';

const work = mkdtempSync(join(tmpdir(), 'thinkscope-batch-'));
after(() => rmSync(work, { recursive: true, force: true }));

const prompt = Array.from({ length: 30 }, (_, i) => 10 + ((i * 37) % 500));

async function alone(model: Model, reply: BatchReply, options: Omit<GenerateOptions, 'steering'>) {
  const out: { id: number; logits: Float32Array }[] = [];
  for await (const token of generate(model.session, prompt, { ...options, seed: reply.seed, steering: reply.steering, promptSteering: reply.promptSteering })) out.push({ id: token.id, logits: token.logits });
  return out;
}

async function together(model: Model, replies: BatchReply[], options: Omit<GenerateOptions, 'steering'>) {
  const out: { id: number; logits: Float32Array }[][] = replies.map(() => []);
  for await (const { reply, token } of generateBatch(model.session, prompt, replies, options)) out[reply].push({ id: token.id, logits: token.logits });
  return out;
}

function assertSame(got: { id: number; logits: Float32Array }[], want: { id: number; logits: Float32Array }[], what: string) {
  assert.deepEqual(
    got.map((t) => t.id),
    want.map((t) => t.id),
    `${what}: tokens`,
  );
  got.forEach((t, i) => {
    const worst = t.logits.reduce((m, x, v) => Math.max(m, Math.abs(x - want[i].logits[v])), 0);
    assert.ok(worst < 1e-4, `${what}, token ${i}: |Δ logits| ${worst}`);
  });
}

for (const arch of ['qwen2', 'mistral'] as const) {
  describe(`replies decoded together on a tiny ${arch}`, () => {
    let model: Model;
    let steering: Steering;
    before(async () => {
      await makeModel({ preset: 'tiny', arch, outDir: join(work, arch), seed: 3 });
      model = await Model.open(join(work, arch), { cacheRoot: join(work, 'cache') });
      const H = model.spec.hiddenSize;
      const vector = Float32Array.from({ length: H }, (_, i) => Math.cos(i));
      steering = model.session.compileSteering([{ hook: 'blocks.0.hook_resid_post', kind: 'add', vector, scale: 4, positions: 'all' }]);
    });
    after(() => model.close());

    test('a baseline and a steered reply equal the same replies decoded one by one', async () => {
      // 40 tokens after a 30-token prompt run past the tiny models' 32-token sliding window.
      const options = { maxTokens: 40, temperature: 0.8, topK: 20 };
      const replies: BatchReply[] = [{ seed: 1 }, { seed: 1, steering }];
      const [baseline, steered] = await together(model, replies, options);
      assertSame(baseline, await alone(model, replies[0], options), 'baseline');
      assertSame(steered, await alone(model, replies[1], options), 'steered');
      assert.notDeepEqual(
        baseline.map((t) => t.id),
        steered.map((t) => t.id),
        'the steering changes the reply',
      );
    });

    test('a per-step steering policy and a reply that stops first', async () => {
      const policy = ({ generated }: { generated: readonly number[] }) => (generated.length % 3 === 0 ? steering : undefined);
      const replies: BatchReply[] = [{ steering: policy }, { steering: policy, promptSteering: steering }];
      const first = await alone(model, replies[0], { maxTokens: 12 });
      // The first reply stops at its 5th token; the second runs on to 12.
      const options = { maxTokens: 12, stopTokens: [first[4].id] };
      const [a, b] = await together(model, replies, options);
      assertSame(a, await alone(model, replies[0], options), 'policy');
      assertSame(b, await alone(model, replies[1], options), 'policy with a steered prompt');
      assert.ok(a.length <= 5);
    });

    test('two different steerings at one step are refused', async () => {
      const other = model.session.compileSteering([{ hook: 'blocks.1.hook_resid_post', kind: 'add', vector: new Float32Array(model.spec.hiddenSize).fill(1), scale: 1, positions: 'all' }]);
      await assert.rejects(together(model, [{ steering }, { steering: other }], { maxTokens: 2 }), /one steering at a time/);
    });
  });
}
