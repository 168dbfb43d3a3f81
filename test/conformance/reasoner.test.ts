// The bundled reasoner (media/models/thinkscope-reasoner) through the engine against the PyTorch
// forward it was trained with: the logits of the last 8 positions of three prompts (an early exit after
// the TTS cue, a whole trace, a persona chat) and the residual stream at the last position going into
// every layer, within 1e-4 + 1e-4·|ref|.

import { after, before, describe, test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../extension/engine/model';
import { openSafetensors, type SafetensorsFile } from '../../extension/engine/checkpoint/safetensors';
import { assertClose } from '../support/conformance-kit';

const ROOT = join(__dirname, '..', '..');
const MODEL_DIR = join(ROOT, 'media', 'models', 'thinkscope-reasoner');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'reasoner');

describe('the bundled reasoner matches its PyTorch reference', () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'thinkscope-reasoner-'));
  const prompts = JSON.parse(readFileSync(join(FIXTURES, 'reference-ids.json'), 'utf8')) as Record<string, number[]>;
  let model: Model;
  let ref: SafetensorsFile;
  before(async () => {
    model = await Model.open(MODEL_DIR, { cacheRoot, threads: 1 });
    ref = await openSafetensors(join(FIXTURES, 'reference.safetensors'));
  });
  after(async () => {
    await model.close();
    await ref.close();
    rmSync(cacheRoot, { recursive: true, force: true });
  });

  for (const [name, ids] of Object.entries(prompts)) {
    test(`${name} (${ids.length} tokens): logits and residual stream`, async () => {
      const { numLayers: n, hiddenSize: H, vocabSize: V } = model.spec;
      const capture = [...Array.from({ length: n }, (_, l) => `blocks.${l}.hook_resid_pre`), 'ln_final.hook_normalized'];
      const result = await model.session.forward({ ids, logits: 'all', capture });
      const T = ids.length;
      assertClose(result.logits.subarray((T - 8) * V), await ref.readFloat32(`${name}.logits`), `${name}: logits of the last 8 positions`);
      const hidden = await ref.readFloat32(`${name}.hidden`);
      capture.forEach((hook, i) => assertClose(result.captures.get(hook)!.subarray((T - 1) * H), hidden.subarray(i * H, (i + 1) * H), `${name}: ${hook} at the last position`));
    });
  }
});
