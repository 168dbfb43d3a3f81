// The engine against Hugging Face transformers' own outputs for every model of the conformance kit:
// full-sequence logits, every residual-stream hook, probe readouts, greedy decoding with the KV cache,
// steered and unsteered, and every intervention case.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../extension/engine/model';
import { openSafetensors, type SafetensorsFile } from '../../extension/engine/checkpoint/safetensors';
import { generate } from '../../extension/engine/runtime/generate';
import { bytesPerRow } from '../../extension/engine/runtime/memory-budget';
import type { ProgressUpdate } from '../../extension/engine/runtime/progress';
import { parseSteeringSpec } from '../../extension/engine/steering-file';
import { assertClose, kitModels } from '../support/conformance-kit';

const models = kitModels() ?? [];
const cacheRoot = mkdtempSync(join(tmpdir(), 'thinkscope-conformance-'));
after(() => rmSync(cacheRoot, { recursive: true, force: true }));

function slice(data: Float32Array, index: number, size: number): Float32Array {
  return data.subarray(index * size, (index + 1) * size);
}

async function greedy(model: Model, ids: number[], steering?: ReturnType<Model['session']['compileSteering']>) {
  const tokens: number[] = [];
  const stepLogits: Float32Array[] = [];
  for await (const token of generate(model.session, ids, { maxTokens: 8, steering })) {
    tokens.push(token.id);
    stepLogits.push(token.logits);
  }
  return { tokens, stepLogits };
}

for (const kit of models) {
  describe(`conformance: ${kit.name}`, () => {
    let model: Model;
    let ref: SafetensorsFile;
    before(async () => {
      model = await Model.open(kit.dir, { cacheRoot, requireTokenizer: false, threads: 1 });
      ref = await openSafetensors(join(kit.dir, 'reference.safetensors'));
    });
    after(async () => {
      await model.close();
      await ref.close();
    });

    for (const prompt of ['a', 'b']) {
      for (const steered of [false, true]) {
        const variant = steered ? `${prompt}.steered` : prompt;
        test(`prompt ${prompt}, ${steered ? 'steered (add v at blocks.1.hook_resid_post)' : 'unsteered'}: logits, hooks, probes, greedy decoding`, async () => {
          const { spec } = model;
          const n = spec.numLayers;
          const H = spec.hiddenSize;
          const ids = Array.from(await ref.readInt32(`${prompt}.input_ids`));
          const T = ids.length;
          const u = await ref.readFloat32('probe.u');
          const vhat = await ref.readFloat32('probe.vhat');
          const residHooks = ['blocks.0.hook_resid_pre', ...Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_post`)];
          const steering = model.session.compileSteering(
            steered ? [{ hook: 'blocks.1.hook_resid_post', kind: 'add', vector: await ref.readFloat32('steer.v'), scale: 1, positions: 'all' }] : [],
            residHooks.flatMap((hook) => [
              { name: `u@${hook}`, hook, direction: u },
              { name: `vhat@${hook}`, hook, direction: vhat },
            ]),
          );
          const capture = [...Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_pre`), 'ln_final.hook_normalized', ...residHooks.slice(1)];
          const result = await model.session.forward({ ids, logits: 'all', capture, steering });

          assertClose(result.logits, await ref.readFloat32(`${variant}.logits`), 'logits');
          const hidden = await ref.readFloat32(`${variant}.hidden_states`);
          for (let i = 0; i < n; i++) assertClose(result.captures.get(`blocks.${i}.hook_resid_pre`)!, slice(hidden, i, T * H), `hidden_states[${i}] (blocks.${i}.hook_resid_pre)`);
          assertClose(result.captures.get('ln_final.hook_normalized')!, slice(hidden, n, T * H), `hidden_states[${n}] (ln_final.hook_normalized)`);
          const layerOutputs = await ref.readFloat32(`${variant}.layer_outputs`);
          for (let l = 0; l < n; l++) assertClose(result.captures.get(`blocks.${l}.hook_resid_post`)!, slice(layerOutputs, l, T * H), `layer_outputs[${l}]`);

          for (const [probe, refName] of [['u', 'proj_u'], ['vhat', 'proj_vhat']] as const) {
            const expected = await ref.readFloat32(`${variant}.${refName}`);
            residHooks.forEach((hook, i) => {
              // A probe reads the value arriving at its hook, before that hook's own edit; the
              // reference projects the edited stream, so the steered hook is checked on the capture.
              const editedHere = steered && hook === 'blocks.1.hook_resid_post';
              const actual = editedHere
                ? Float32Array.from({ length: T }, (_, t) => slice(result.captures.get(hook)!, t, H).reduce((s, x, k) => s + x * (probe === 'u' ? u : vhat)[k], 0))
                : result.probes.get(`${probe}@${hook}`)!;
              assertClose(actual, slice(expected, i, T), `${refName}[${i}] (${hook})`);
            });
          }

          const run = await greedy(model, ids, steered ? model.session.compileSteering([{ hook: 'blocks.1.hook_resid_post', kind: 'add', vector: await ref.readFloat32('steer.v'), scale: 1 }]) : undefined);
          assert.deepEqual(run.tokens, Array.from(await ref.readInt32(`${variant}.greedy_tokens`)), 'greedy tokens');
          const stepLogits = await ref.readFloat32(`${variant}.greedy_step_logits`);
          run.stepLogits.forEach((row, k) => assertClose(row, slice(stepLogits, k, spec.vocabSize), `greedy step ${k} logits`));
        });
      }
    }

    test('prompt a read in chunks of 3 tokens (a memory budget far below one full pass): logits, hooks and probes as transformers computes them', async () => {
      const ids = Array.from(await ref.readInt32('a.input_ids'));
      const { spec } = model;
      const T = ids.length;
      const H = spec.hiddenSize;
      const chunked = await Model.open(kit.dir, { cacheRoot, requireTokenizer: false, threads: 1, memoryBudget: 3 * bytesPerRow(spec, T) });
      try {
        assert.equal(chunked.session.rowsWithinBudget(T), 3);
        const vhat = await ref.readFloat32('probe.vhat');
        const hook = `blocks.${spec.numLayers - 1}.hook_resid_post`;
        const steering = chunked.session.compileSteering([], [{ name: 'vhat', hook, direction: vhat }]);
        const reports: ProgressUpdate[] = [];
        const result = await chunked.session.forward({ ids, logits: 'all', capture: [hook], steering, progress: { report: (u) => reports.push(u) } });
        assertClose(result.logits, await ref.readFloat32('a.logits'), 'logits');
        assertClose(result.captures.get(hook)!, slice(await ref.readFloat32('a.layer_outputs'), spec.numLayers - 1, T * H), `layer_outputs[${spec.numLayers - 1}]`);
        assertClose(result.probes.get('vhat')!, slice(await ref.readFloat32('a.proj_vhat'), spec.numLayers, T), 'proj_vhat');
        assert.equal(result.cache.length, T);
        // The first probe adds the session's blocks at the residual stream, then every chunk reports.
        assert.match(reports[0].message, /adding steering blocks at every layer's hook_resid_post/);
        assert.deepEqual(reports.slice(1).map((u) => u.done), Array.from({ length: Math.ceil(T / 3) }, (_, k) => Math.min(T, 3 * (k + 1))), 'progress after every chunk');
      } finally {
        await chunked.close();
      }
    });

    if (kit.hasInterventions) {
      const cases = (JSON.parse(readFileSync(join(kit.dir, 'interventions.json'), 'utf8')) as { cases: Record<string, { steer_spec: unknown }> }).cases;
      for (const [name, spec] of Object.entries(cases)) {
        test(`intervention case ${name}: logits, layer outputs, greedy decoding`, async () => {
          const refs = await openSafetensors(join(kit.dir, 'interventions.safetensors'));
          try {
            const { numLayers: n, hiddenSize: H, vocabSize: V } = model.spec;
            const ids = Array.from(await refs.readInt32('input_ids'));
            const T = ids.length;
            const steering = model.session.compileSteering(await parseSteeringSpec(spec.steer_spec, kit.dir, name));
            const capture = Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_post`);
            const result = await model.session.forward({ ids, logits: 'all', capture, steering });
            assertClose(result.logits, await refs.readFloat32(`${name}.logits`), 'logits');
            const layerOutputs = await refs.readFloat32(`${name}.layer_outputs`);
            for (let l = 0; l < n; l++) assertClose(result.captures.get(capture[l])!, slice(layerOutputs, l, T * H), `layer_outputs[${l}]`);
            const run = await greedy(model, ids, steering);
            assert.deepEqual(run.tokens, Array.from(await refs.readInt32(`${name}.greedy_tokens`)), 'greedy tokens');
            const stepLogits = await refs.readFloat32(`${name}.greedy_step_logits`);
            run.stepLogits.forEach((row, k) => assertClose(row, slice(stepLogits, k, V), `greedy step ${k} logits`));
          } finally {
            await refs.close();
          }
        });
      }
    }
  });
}
