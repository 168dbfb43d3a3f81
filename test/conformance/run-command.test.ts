// `thinkscope run` against the conformance kit: the steering file, the captures (with `*` for the
// layer), the full-forward logits and the greedy generation, written and read back as safetensors.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../extension/cli/command';
import { runCommandSpec } from '../../extension/cli/commands/run';
import { openSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { assertClose, kitModels } from '../support/conformance-kit';

const work = mkdtempSync(join(tmpdir(), 'thinkscope-run-'));
process.env.THINKSCOPE_CACHE = join(work, 'cache');
after(() => rmSync(work, { recursive: true, force: true }));

for (const kit of (kitModels() ?? []).filter((m) => m.hasInterventions)) {
  test(`run --steer --capture 'blocks.*.hook_resid_post' --generate 8 on ${kit.name} matches the add_then_cap case`, async () => {
    const cases = JSON.parse(readFileSync(join(kit.dir, 'interventions.json'), 'utf8')).cases;
    const spec = cases.add_then_cap.steer_spec as { interventions: { vector?: { file: string }; direction?: { file: string } }[] };
    // The steering file lives elsewhere: its tensor references become absolute paths.
    for (const item of spec.interventions) for (const ref of [item.vector, item.direction]) if (ref) ref.file = join(kit.dir, ref.file);
    const steerFile = join(work, `${kit.name}.steer.json`);
    writeFileSync(steerFile, JSON.stringify(spec));
    const refs = await openSafetensors(join(kit.dir, 'interventions.safetensors'));
    const ids = Array.from(await refs.readInt32('input_ids'));
    const out = join(work, `${kit.name}.out.safetensors`);
    await runCommand(runCommandSpec, ['--model', kit.dir, '--ids', ids.join(','), '--capture', 'blocks.*.hook_resid_post', '--steer', steerFile, '--generate', '8', '--out', out], {
      signal: new AbortController().signal,
    });
    const result = await openSafetensors(out);
    try {
      const close = async (name: string, ref: Float32Array) => assertClose(await result.readFloat32(name), ref, name);
      await close('logits', await refs.readFloat32('add_then_cap.logits'));
      const layers = await refs.readFloat32('add_then_cap.layer_outputs');
      const config = JSON.parse(readFileSync(join(kit.dir, 'config.json'), 'utf8'));
      const size = ids.length * config.hidden_size;
      for (let l = 0; l < config.num_hidden_layers; l++) await close(`blocks.${l}.hook_resid_post`, layers.subarray(l * size, (l + 1) * size));
      assert.deepEqual(Array.from(await result.readInt32('generated')), Array.from(await refs.readInt32('add_then_cap.greedy_tokens')));
      await close('generated_logits', await refs.readFloat32('add_then_cap.greedy_step_logits'));
    } finally {
      await result.close();
      await refs.close();
    }
  });
}
