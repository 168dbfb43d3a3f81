// A JSON trace's steps as a reader reads them: the saved step text and the Markdown / HTML exports
// show the decoded thinking (\( is "\(", \n a line break), never the JSON escapes around it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../extension/common/trace/parse';
import { annotateTrace } from '../../extension/engine/analysis/tts/annotate';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import { serializeTraceFile } from '../../extension/common/bundle/trace-write';
import { exportMarkdown } from '../../extension/common/export/markdown';
import { exportHtml } from '../../extension/common/export/html';

const THINKING = 'Let \\(x = 3\\) and "y" = 4.\n\nSo \\(x + y = 7\\).';

test('saved step text and exports of a JSON trace are the decoded text, and ranges still cover the escaped source', async () => {
  const source = JSON.stringify({ messages: [{ role: 'user', content: 'Sum?' }, { role: 'assistant', reasoning_content: THINKING, content: '\\boxed{7}' }] });
  const file = await annotateTrace(parseTrace(source, { fileName: 'trace.json' }), { name: 'trace.json', toolVersion: 'test', segmentation: 'sentence' });
  assert.deepEqual(file.steps.map((s) => s.text), ['Let \\(x = 3\\) and "y" = 4.', 'So \\(x + y = 7\\).']);
  assert.equal(JSON.parse(`"${source.slice(file.steps[0].start, file.steps[0].end)}"`), file.steps[0].text);
  const loaded = parseTraceFile(serializeTraceFile(file));
  assert.deepEqual(loaded.steps.map((s) => s.text), file.steps.map((s) => s.text), 'the decoded text passes the loader’s check');
  // A file written before steps were decoded (raw JSON characters) still loads.
  const raw = { ...file, steps: file.steps.map((s) => ({ ...s, text: source.slice(s.start, s.end) })) };
  assert.equal(parseTraceFile(serializeTraceFile(raw)).steps[0].text, raw.steps[0].text);

  for (const exported of [exportMarkdown(file), exportMarkdown(raw)]) {
    const trace = exported.slice(exported.indexOf('## Trace'));
    assert.ok(trace.includes('Let \\\\(x = 3\\\\)'), 'the backslash of \\( once, escaped for Markdown');
    assert.ok(!trace.includes('\\\\\\\\('), 'not the JSON escape of it');
    assert.ok(!trace.includes('\\"y\\"') && !trace.includes('\\n'), 'no escaped quotes or \\n');
    assert.ok(!trace.includes('"messages"'), 'the JSON around the thinking is not shown');
  }
  const html = exportHtml(file, { chartScript: '' });
  const pre = html.slice(html.indexOf('id="ts-trace"'), html.indexOf('</pre>', html.indexOf('id="ts-trace"')));
  assert.ok(pre.includes('Let \\(x = 3\\) and &quot;y&quot; = 4.') || pre.includes('Let \\(x = 3\\) and "y" = 4.'), pre);
  assert.ok(!pre.includes('\\\\(') && !pre.includes('\\n'), 'the HTML trace shows the decoded text');
});
