// Live counterfactuals and pruning on the bundled trained reasoner (media/models/thinkscope-reasoner),
// whose true steps carry the running total to the answer and whose checks ("Wait, let me check: …")
// are decorative: with the trace read up to its true step, moving that step's numbers takes the answer
// away; pruning the low-TTS steps of a calibration trace removes exactly its checks and keeps the
// answer's confidence (here it rises: the checks confuse the model at the end of the trace).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { perturbStep } from '../../extension/common/analysis/counterfactual';
import { parseTrace } from '../../extension/common/trace/parse';
import { CounterfactualBaseline } from '../../extension/engine/analysis/counterfactual';
import { segmentThinking } from '../../extension/engine/analysis/trace-steps';
import { pruneTrace } from '../../extension/engine/analysis/prune';
import { readFile } from 'node:fs/promises';
import { Model } from '../../extension/engine/model';

const MODEL_DIR = join(__dirname, '..', '..', 'media', 'models', 'thinkscope-reasoner');
const CALIBRATION = join(__dirname, '..', '..', 'media', 'samples', 'reasoner-calibration', 'trace-1.md');
const TRACE =
  'Ann has 29 pens. Ann loses 2, then gets 2 more, then sells 6. How many pens now?\n\n<think>\nLet me follow the pens one change at a time.\n\n' +
  'So 29 - 2 = 27, which makes 27 + 2 - 6 = 23 in the end.\n</think>\n\nThe final answer is \\boxed{23}.\n';

describe('live counterfactuals on the trained reasoner', () => {
  let root: string;
  let model: Model;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'counterfactual-reasoner-'));
    model = await Model.open(MODEL_DIR, { cacheRoot: join(root, 'cache') });
  });

  after(async () => {
    await model?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("moving the true step's numbers takes the answer away", async () => {
    const trace = parseTrace(TRACE);
    const baseline = await CounterfactualBaseline.prepare(model, trace, { segmentation: 'paragraph' });
    assert.equal(baseline.answer, '23');
    assert.ok(baseline.before.confidence > 0.9, `S after the true step ${baseline.before.confidence}`);
    assert.equal(baseline.before.greedy, '23');
    const step = segmentThinking(trace, 'paragraph').steps[1];
    const edited = perturbStep(TRACE, { index: 1, ...step.range }, 100)!;
    const result = await baseline.edit(parseTrace(edited));
    assert.equal(result.step?.index, 1);
    assert.ok(result.after.confidence < 0.01, `S after the perturbed true step ${result.after.confidence}`);
    assert.notEqual(result.after.greedy, '23');
    assert.ok(result.recomputed < result.tokens.after);
  });

  it('pruning the decorative checks keeps the answer', async () => {
    const text = await readFile(CALIBRATION, 'utf8');
    const { steps, pruned } = await pruneTrace(model, parseTrace(text), { name: 'trace-1.md', toolVersion: 'test', segmentation: 'paragraph', rules: [{ kind: 'threshold', value: 0.05 }] });
    const [{ record }] = pruned;
    const checks = steps.filter((step) => /^(Wait|Let me verify|Hold on)/.test(step.text)).map((step) => step.index);
    assert.ok(checks.length > 0);
    assert.deepEqual(record.removed.map((r) => r.index), checks, `removed ${JSON.stringify(record.removed.map((r) => r.text))}`);
    assert.ok(record.after.confidence >= record.before.confidence, `S ${record.before.confidence} → ${record.after.confidence}`);
    assert.equal(record.after.greedy, record.answer);
    assert.ok(record.tokens.after < record.tokens.before);
  });
});
