// Does steering with a TrueThinking direction mined from the model's own traces move a step's TTS more
// than a random push does? Mines the direction on the held-out calibration traces (as write-fixtures.ts
// shares them out), then on every test trace pushes each true step against the direction and along it,
// and each check along it, with steer-step (the product's method, its own same-norm random control
// included), plus more random controls of the same norm: one seed could be a lucky or unlucky draw.
//
//   npx tsx tools/train-reasoner/steer-eval.ts --model media/models/thinkscope-reasoner --data tmp/reasoner-data \
//       --layers 0,1,2 --scale 3 --controls 5
//
// A drop that pushing along the direction gives as well is not the direction making the model ignore
// the step: it is a push the step's tokens do not survive.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Model } from '../../extension/engine/model';
import { parseTrace } from '../../extension/common/trace/parse';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';
import { mineTrueThinking } from '../../extension/engine/analysis/truethinking-direction';
import { CONTROL_SEED, steerStep } from '../../extension/engine/analysis/tts/steer-step';
import { norm } from '../../extension/common/analysis/stats';
import { readHeldOut, splitHeldOut, type HeldOut } from './heldout-split';

/** Mean change of TTS and how many steps changed by more than half (a step the push turned around). */
class Tally {
  private sum = 0;
  private count = 0;
  private large = 0;
  add(change: number): void {
    this.sum += change;
    this.count++;
    if (change > 0.5) this.large++;
  }
  get mean(): number {
    return this.sum / this.count;
  }
  text(): string {
    return `${this.mean.toFixed(3)} (${this.large} of ${this.count} by > 0.5)`;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'media/models/thinkscope-reasoner' },
      data: { type: 'string', default: 'tmp/reasoner-data' },
      layers: { type: 'string', default: '0,1,2' },
      scale: { type: 'string', default: '3' },
      controls: { type: 'string', default: '5' },
      calibration: { type: 'string', default: '16' },
    },
  });
  const layers = values.layers!.split(',').map(Number);
  const scale = Math.abs(Number(values.scale));
  const controls = Number(values.controls);
  if (!(controls >= 1)) throw new Error(`--controls ${values.controls}: at least one random control`);
  const split = splitHeldOut(readHeldOut(values.data!));
  const cacheRoot = mkdtempSync(join(tmpdir(), 'steer-eval-'));
  const model = await Model.open(values.model!, { cacheRoot, threads: 1 });
  try {
    const analyze = async (p: HeldOut, name: string) => {
      const parsed = parseTrace(p.markdown, { fileName: name });
      const { file } = await analyzeDocument(parsed, { name, toolVersion: 'steer-eval', segmentation: 'paragraph', model, tts: {}, seal: null, persona: null });
      return { parsed, file };
    };
    const calibration = [];
    for (const [i, p] of split.calibration.slice(0, Number(values.calibration)).entries()) calibration.push(await analyze(p, `calibration-${i}.md`));
    const direction = await mineTrueThinking(model, calibration.map((c) => c.file));
    console.log(`direction from ${calibration.length} calibration traces; norm per layer: ${direction.vectors.map((v) => norm(v).toFixed(3)).join(', ')}`);

    for (const layer of layers) {
      const against = new Tally();
      const along = new Tally();
      const randoms = Array.from({ length: controls }, () => new Tally());
      const checkAlong = new Tally();
      const checkControl = new Tally();
      for (const [i, p] of split.test.entries()) {
        const parsed = parseTrace(p.markdown, { fileName: `test-${i}.md` });
        for (const [step, { kind }] of p.steps.entries()) {
          if (kind !== 'true' && kind !== 'check') continue;
          const steer = (signed: number, controlSeed = CONTROL_SEED) => steerStep(model, parsed, { segmentation: 'paragraph', step, direction, layer, scale: signed, controlSeed });
          if (kind === 'check') {
            const r = await steer(scale);
            checkAlong.add(r.after.tts - r.before.tts);
            checkControl.add(r.control.tts - r.before.tts);
            continue;
          }
          const r = await steer(-scale);
          against.add(r.before.tts - r.after.tts);
          randoms[0].add(r.before.tts - r.control.tts);
          along.add(r.before.tts - (await steer(scale)).after.tts);
          for (let c = 1; c < controls; c++) randoms[c].add(r.before.tts - (await steer(-scale, CONTROL_SEED + c)).control.tts);
        }
      }
      const reaching = randoms.filter((t) => t.mean >= against.mean).length;
      const randomMean = randoms.reduce((a, t) => a + t.mean, 0) / controls;
      const rows: [string, string][] = [
        [`against the direction (−${scale})`, against.text()],
        [`along it (+${scale})`, along.text()],
        [`steer-step's random control`, randoms[0].text()],
      ];
      console.log(
        `\nlayer ${layer}, scale ${scale}: mean TTS drop of true steps\n` +
          rows.map(([label, value]) => `  ${(label + ':').padEnd(30)} ${value}\n`).join('') +
          `  ${controls} random controls (seeds ${CONTROL_SEED}..${CONTROL_SEED + controls - 1}): mean ${randomMean.toFixed(3)}, each ${randoms.map((t) => t.mean.toFixed(3)).join(' ')}; ${reaching} of ${controls} drop as much as the direction\n` +
          `  checks pushed along (+${scale}), mean TTS rise: ${checkAlong.text()}; steer-step's random control ${checkControl.text()}`,
      );
    }
  } finally {
    await model.close();
    rmSync(cacheRoot, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
