// True Thinking reads the whole trace once: the model's own answer and S after the whole trace (the
// answer check) continue the intact trace's read instead of running over the trace again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Model } from '../../extension/engine/model';
import { parseTrace } from '../../extension/common/trace/parse';
import { annotateTrace, traceLayout } from '../../extension/engine/analysis/tts/annotate';

const ROOT = join(__dirname, '..', '..');

test('scoring a trace runs the model over its tokens once, the answer check included', async () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'thinkscope-single-read-'));
  const model = await Model.open(join(ROOT, 'media', 'models', 'thinkscope-reasoner'), { cacheRoot, threads: 1 });
  try {
    const trace = parseTrace(readFileSync(join(ROOT, 'media', 'samples', 'reasoner-trace.md'), 'utf8'), { fileName: 'reasoner-trace.md' });
    const { layout } = await traceLayout(model.tokenizer, trace, { segmentation: 'paragraph' });
    let shared = 0;
    while (layout.intact[shared] === layout.perturbed[shared]) shared++;
    // The two passes of the trace pair: every intact token, and the perturbed trace after it parts.
    const pair = layout.intact.length + layout.perturbed.length - shared;
    const forward = model.session.forward.bind(model.session);
    let forwarded = 0;
    model.session.forward = (request) => {
      forwarded += request.ids.length;
      return forward(request);
    };
    const file = await annotateTrace(trace, { name: 'reasoner-trace.md', toolVersion: 'test', segmentation: 'paragraph', model, tts: {} });
    assert.ok(file.answerCheck, 'the answer check was made');
    assert.equal(file.answerCheck.agrees, true);
    // Beyond the pair: the cue and answer of S after the whole trace, and the greedy answer's tokens.
    const check = layout.answer.length + 16 + 20;
    assert.ok(forwarded <= pair + check, `${forwarded} tokens run through forward for a trace pair of ${pair}`);
  } finally {
    await model.close();
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});
