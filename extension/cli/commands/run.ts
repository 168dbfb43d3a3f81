// `thinkscope run`: one full forward over given token ids (and optionally greedy generation), with
// captures and steering, written as a safetensors file — for scripting and conformance checks.

import { writeSafetensors, type TensorToWrite } from '../../engine/checkpoint/safetensors';
import { expandHookPattern } from '../../common/hooks';
import { generate } from '../../engine/runtime/generate';
import { loadSteeringFile } from '../../engine/steering-file';
import { integerOption, required, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress, prepareSteeringWithProgress } from '../open-model';

function parseIds(text: string): number[] {
  const ids = text.split(',').map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0)) throw new UsageError('--ids must be a comma-separated list of token ids, e.g. 1,290,28');
  return ids;
}

export const runCommandSpec: Command = {
  name: 'run',
  summary: 'Run one forward pass over token ids; write logits, captured hooks and generated tokens as safetensors.',
  usage: 'run --model DIR --ids 1,290,28 [--capture HOOK,...] [--steer FILE.json] [--generate N] --out OUT.safetensors',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' },
    ids: { type: 'string', description: 'prompt token ids, comma-separated', valueName: 'IDS' },
    capture: { type: 'string', description: 'hook points to capture, comma-separated; * stands for every layer (blocks.*.hook_resid_post)', valueName: 'HOOKS' },
    steer: { type: 'string', description: 'steering file {"interventions": [...]}', valueName: 'FILE' },
    generate: { type: 'string', description: 'also generate N tokens greedily with the KV cache (no EOS stop)', valueName: 'N' },
    ...modelLoadOptions,
    out: { type: 'string', description: 'output safetensors file', valueName: 'FILE' },
  },
  async run(values, _positionals, { signal }) {
    const ids = parseIds(required(values, 'ids'));
    const out = required(values, 'out');
    const newTokens = values.generate === undefined ? 0 : integerOption(values, 'generate');
    if (newTokens < 0) throw new UsageError('--generate must be ≥ 0');
    const model = await openModelWithProgress(required(values, 'model'), { ...modelLoadSettings(values), requireTokenizer: false, signal });
    try {
      const { spec } = model;
      const capture = typeof values.capture === 'string' ? values.capture.split(',').flatMap((p) => expandHookPattern(p.trim(), spec.numLayers)) : [];
      const steering = typeof values.steer === 'string' ? model.session.compileSteering(await loadSteeringFile(values.steer)) : undefined;
      await prepareSteeringWithProgress(model, steering?.kinds ?? []);
      const result = await model.session.forward({ ids, logits: 'all', capture, steering });
      const T = ids.length;
      const tensors: TensorToWrite[] = [
        { name: 'logits', dtype: 'F32', shape: [T, spec.vocabSize], data: result.logits },
        ...capture.map((name): TensorToWrite => ({ name, dtype: 'F32', shape: [T, spec.hiddenSize], data: result.captures.get(name)! })),
      ];
      if (newTokens > 0) {
        const generated = new Int32Array(newTokens);
        const generatedLogits = new Float32Array(newTokens * spec.vocabSize);
        // The full forward already holds the prompt's cache: only its last token is fed again, for its logits.
        const cache = result.cache.prefix(T - 1);
        for await (const token of generate(model.session, ids.slice(T - 1), { cache, maxTokens: newTokens, steering, signal })) {
          generated[token.index] = token.id;
          generatedLogits.set(token.logits, token.index * spec.vocabSize);
        }
        tensors.push({ name: 'generated', dtype: 'I32', shape: [newTokens], data: generated }, { name: 'generated_logits', dtype: 'F32', shape: [newTokens, spec.vocabSize], data: generatedLogits });
      }
      await writeSafetensors(out, tensors);
      console.error(`wrote ${out}: ${tensors.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}`);
    } finally {
      await model.close();
    }
  },
};
