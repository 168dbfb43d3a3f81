// A steered comparison's scores, row by row, as the Steering panel shows them and the Markdown and HTML
// exports write them: one set of rows, so a shared trace says what the panel said.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replySummaryRows } from '../../extension/common/analysis/reply-summary';
import { exportMarkdown } from '../../extension/common/export/markdown';
import { exportHtml } from '../../extension/common/export/html';
import type { ReplyRecord, ReplyScoring, StepAnnotation, TraceFile } from '../../extension/common/bundle/trace-file';
import { sampleTraceFile } from './bundle-fixtures';

const NO_AXIS = 'persona projection not scored: this workspace has no Assistant Axis for the loaded model';

/** A reply of one sentence per step, each with its SEAL class and TTS. */
function reply(sentences: string[], classes: StepAnnotation['sealClass'][], tts: (number | null)[], scoring: Partial<ReplyScoring>): ReplyRecord {
  const base = sampleTraceFile().steps[0];
  const text = sentences.join(' ');
  let start = 0;
  const steps = sentences.map((sentence, index) => {
    const step = { ...base, index, start, end: start + sentence.length, text: sentence, sealClass: classes[index], sealKeyword: null, tts: tts[index], perturbable: tts[index] !== null, latentScore: 0.5 + index / 10 };
    start += sentence.length + 1;
    return step;
  });
  const full: ReplyScoring = { ttsAnswer: null, answerCheck: null, sealDirection: 'seal', sealLayer: 2, axis: null, personaLayer: null, personaProjection: null, personaFloor: null, notScored: [], ...scoring };
  return { text, steps, scoring: full };
}

const baseline = reply(['Wait, 2 + 2 = 4.', 'So 4.', '\\boxed{4}'], ['reflection', 'execution', 'execution'], [0.9, 0.1, 0.5], { ttsAnswer: '4', notScored: [NO_AXIS] });
const steered = reply(['2 + 2 = 4.', 'So 4.'], ['execution', 'execution'], [null, null], { notScored: ['no \\boxed{} answer, TTS not scored', NO_AXIS] });

test('the rows count steps per SEAL class, average the scores, give the change and say what a reply did not score', () => {
  const rows = replySummaryRows([baseline, steered]);
  const row = (label: string) => rows.find((r) => r.label === label)!;
  assert.deepEqual(row('steps').cells.map((c) => c.text), ['3', '2']);
  assert.equal(row('steps').change, '−1');
  assert.equal(row('execution').sealClass, 'execution');
  assert.equal(row('reflection').change, '−1');
  assert.deepEqual(row('mean TTS').cells, [{ text: '0.50', notScored: null }, { text: '', notScored: 'no \\boxed{} answer, TTS not scored' }]);
  assert.equal(row('mean TTS').change, '—');
  assert.deepEqual(row('answer TTS measures').cells.map((c) => c.text), ['4', '']);
  assert.deepEqual(row('mean SEAL latent').cells.map((c) => c.text), ['0.60', '0.55']);
  assert.equal(row('mean SEAL latent').change, '−0.05');
  assert.deepEqual(row('persona projection').cells.map((c) => c.notScored), [NO_AXIS, NO_AXIS]);
  // One reply alone: no change column.
  assert.ok(replySummaryRows([steered]).every((r) => r.change === null));
});

test('Markdown and HTML exports of a steered comparison carry the same scores', () => {
  const file: TraceFile = { ...sampleTraceFile(), comparison: { prompt: 'What is 2 + 2?', baseline, steered, alignment: [[0, -1], [1, 0], [2, 1]] } };
  const markdown = exportMarkdown(file);
  assert.match(markdown, /### Scores\n\n\| \| Baseline \| Steered \| Change \|/);
  assert.match(markdown, /^\| mean TTS \| 0\.50 \| \*no \\\\boxed\{\} answer, TTS not scored\* \| — \|$/m);
  assert.match(markdown, /^\| mean SEAL latent \| 0\.60 \| 0\.55 \| −0\.05 \|$/m);
  const html = exportHtml(file, { chartScript: '' });
  assert.match(html, /<h3>Scores<\/h3>/);
  assert.match(html, /<tr><th scope="row">mean SEAL latent<\/th><td class="num">0\.60<\/td><td class="num">0\.55<\/td><td class="num">−0\.05<\/td><\/tr>/);
  assert.match(html, /<td class="not-scored">no \\boxed\{\} answer, TTS not scored<\/td>/);
  // Keyword classes alone (replies not scored): no scores table.
  const unscored = { ...file, comparison: { ...file.comparison!, baseline: { ...baseline, scoring: undefined }, steered: { ...steered, scoring: undefined } } };
  assert.doesNotMatch(exportMarkdown(unscored), /### Scores/);
});
