// analyze → save → open gives back the same annotations, byte for byte on a second save.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace } from '../../extension/common/trace/parse';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import { serializeTraceFile } from '../../extension/common/bundle/trace-write';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';
import { buildSealDirection } from '../../extension/engine/analysis/seal';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';

const work = mkdtempSync(join(tmpdir(), 'thinkscope-roundtrip-'));
// A long natural-language trace (a shape fixture) and the reasoner's chat sample.
const paths = { 'sample-trace.md': join(__dirname, '..', 'fixtures', 'sample-trace.md'), 'reasoner-chat.json': join(__dirname, '..', '..', 'media', 'samples', 'reasoner-chat.json') };
let model: Model;
let seal: Awaited<ReturnType<typeof buildSealDirection>>;

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'llama', outDir: join(work, 'model'), seed: 11 });
  model = await Model.open(join(work, 'model'), { cacheRoot: join(work, 'cache') });
  const sample = parseTrace(readFileSync(paths['sample-trace.md'], 'utf8'), { fileName: 'sample-trace.md' });
  seal = await buildSealDirection(model, [{ name: 'sample-trace.md', trace: sample }]);
});
after(async () => {
  await model.close();
  rmSync(work, { recursive: true, force: true });
});

for (const [file, options] of [
  ['sample-trace.md', { tts: {} }],
  ['reasoner-chat.json', { tts: null }],
] as const) {
  test(`${file}: every annotation survives save and open unchanged`, async () => {
    const trace = parseTrace(readFileSync(paths[file], 'utf8'), { fileName: file });
    const { file: analysed } = await analyzeDocument(trace, {
      name: file,
      toolVersion: '0.0.0-test',
      segmentation: 'sentence',
      model,
      tts: options.tts,
      seal: { direction: seal },
      persona: null,
    });
    assert.ok(analysed.steps.length > 0);
    assert.ok(analysed.steps.some((s) => s.latentScore !== null), 'latent scores are part of the round trip');
    const saved = serializeTraceFile(analysed);
    const opened = parseTraceFile(saved);
    assert.deepEqual(opened, analysed);
    assert.equal(serializeTraceFile(opened), saved);
    for (const step of opened.steps) assert.equal(opened.source.text.slice(step.start, step.end), step.text, `step ${step.index} still points at its text`);
  });
}
