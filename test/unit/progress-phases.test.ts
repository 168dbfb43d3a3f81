// A request in phases drives one bar that only moves forward (VS Code's notification): each update
// carries the whole request's share done, which never goes back and reaches the end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phases, type ProgressUpdate } from '../../extension/engine/runtime/progress';
import { Model } from '../../extension/engine/model';
import { parseTrace } from '../../extension/common/trace/parse';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';

const ROOT = join(__dirname, '..', '..');

test('phases map their own counts into consecutive parts of the whole, nested phases inside their part', () => {
  const seen: ProgressUpdate[] = [];
  const [first, second] = phases({ report: (update) => seen.push(update) }, [1, 3]);
  first.report!({ message: 'a', done: 2, total: 4 });
  const [inner, last] = phases(second, [1, 1]);
  inner.report!({ message: 'b', done: 1, total: 1 });
  last.report!({ message: 'c', done: 1, total: 2 });
  assert.deepEqual(seen.map((u) => u.overall), [0.125, 0.625, 0.8125]);
  assert.deepEqual(seen.map((u) => [u.message, u.done, u.total]), [['a', 2, 4], ['b', 1, 1], ['c', 1, 2]], 'the phase keeps its own words and counts');
});

test('phases that all weigh nothing pass updates through unchanged', () => {
  const seen: ProgressUpdate[] = [];
  const [only] = phases({ report: (update) => seen.push(update) }, [0]);
  only.report!({ message: 'a', done: 1, total: 2 });
  assert.equal(seen[0].overall, undefined);
});

test('analysing a trace with TTS and the logit lens moves the overall share forward through every phase to the end', async () => {
  const cacheRoot = mkdtempSync(join(tmpdir(), 'thinkscope-phases-'));
  const model = await Model.open(join(ROOT, 'media', 'models', 'thinkscope-reasoner'), { cacheRoot, threads: 1 });
  try {
    const text = readFileSync(join(ROOT, 'media', 'samples', 'reasoner-trace.md'), 'utf8');
    const updates: ProgressUpdate[] = [];
    await analyzeDocument(parseTrace(text, { fileName: 'reasoner-trace.md' }), {
      name: 'reasoner-trace.md', toolVersion: 'test', segmentation: 'paragraph', model, tts: {}, lens: {}, seal: null, persona: null,
      report: (update) => updates.push(update),
    });
    const overall = updates.map((u) => u.overall);
    assert.ok(overall.every((o) => o !== undefined), 'every update says the whole request\'s share');
    for (let i = 1; i < overall.length; i++) assert.ok(overall[i]! >= overall[i - 1]!, `the share went back at "${updates[i].message}": ${updates.slice(Math.max(0, i - 3), i + 1).map((u) => `${u.message} ${u.overall}`).join(" / ")}`);
    assert.ok(Math.abs(overall.at(-1)! - 1) < 1e-9, `the last update ends the bar (${overall.at(-1)})`);
    // The lens tokenizes its own questions first: its phase starts after TTS's last score.
    const lensStart = updates.map((u) => /True Thinking Score: step/.test(u.message)).lastIndexOf(true) + 1;
    const ttsUpdates = updates.slice(0, lensStart);
    const phaseOf = (pattern: RegExp) => ttsUpdates.filter((u) => pattern.test(u.message)).map((u) => u.overall!);
    const [tokenizing, reading, scoring] = [/^Tokenizing/, /reading the trace/, /True Thinking Score: step/].map(phaseOf);
    const lens = updates.slice(lensStart).map((u) => u.overall!);
    for (const [name, part] of Object.entries({ tokenizing, reading, scoring, lens })) assert.ok(part.length > 0, `${name} reported`);
    assert.ok(Math.max(...tokenizing) <= Math.min(...reading) && Math.max(...reading) <= Math.min(...scoring) && Math.max(...scoring) <= Math.min(...lens), `each phase fills a later part of the bar: ${JSON.stringify({ tokenizing, reading, scoring, lens })}`);
    assert.ok(Math.max(...scoring) - Math.min(...scoring) > 0.3, 'scoring, the longest phase, moves the bar a long way');
  } finally {
    await model.close();
    rmSync(cacheRoot, { recursive: true, force: true });
  }
});
