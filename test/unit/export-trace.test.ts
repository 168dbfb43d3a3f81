import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportTrace, readChartScript } from '../../extension/engine/export/export-trace';
import { serializeTraceFile } from '../../extension/common/bundle/trace-write';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import { sampleTraceFile } from './bundle-fixtures';

function withFolder(run: (folder: string) => Promise<void>) {
  return async () => {
    const folder = mkdtempSync(join(tmpdir(), 'thinkscope-export-'));
    try {
      await run(folder);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  };
}

test('exports a saved trace to HTML and Markdown', withFolder(async (folder) => {
  const tracePath = join(folder, 'sample.thinktrace.json');
  writeFileSync(tracePath, serializeTraceFile(sampleTraceFile()));
  const html = join(folder, 'out.html');
  const md = join(folder, 'out.md');
  const written = await exportTrace(tracePath, { html, md, chartScript: 'window.drawn = true;' });
  assert.deepStrictEqual(written, [html, md]);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<script nonce="[^"]+">window\.drawn = true;<\/script>/);
  const json = /<script type="application\/json" id="thinkscope-trace">([^<]*)<\/script>/.exec(page)?.[1] ?? '';
  assert.deepStrictEqual(parseTraceFile(json), sampleTraceFile());
  assert.match(readFileSync(md, 'utf8'), /^# ThinkScope trace: train-timetable\.md\n/);
}));

test('an invalid trace file is refused with its path and the field', withFolder(async (folder) => {
  const tracePath = join(folder, 'broken.thinktrace.json');
  const file = JSON.parse(serializeTraceFile(sampleTraceFile()));
  file.steps[0].tts = 'high';
  writeFileSync(tracePath, JSON.stringify(file));
  await assert.rejects(exportTrace(tracePath, { md: join(folder, 'out.md') }), new RegExp(`^Error: ${tracePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid trace file: steps\\[0\\]\\.tts: must be number or null`));
}));

test('a missing file, no output and a missing chart bundle each get one clear message', withFolder(async (folder) => {
  await assert.rejects(exportTrace(join(folder, 'nope.json'), { md: join(folder, 'x.md') }), /cannot read the trace file .*nope\.json/);
  await assert.rejects(exportTrace(join(folder, 'nope.json'), {}), /nothing to export: give an HTML path \(--html OUT\.html\) and\/or a Markdown path \(--md OUT\.md\)/);
  await assert.rejects(readChartScript([join(folder, 'trace-export.js')]), /the HTML export needs trace-export\.js, which is built by `npm run build`/);
}));
