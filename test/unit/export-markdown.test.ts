import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMarkdownInline, exportMarkdown } from '../../extension/common/export/markdown';
import { hostileTraceFile, sampleTraceFile } from './bundle-fixtures';

test('the steps table has one row per step with TTS, S values, SEAL class and latent score', () => {
  const markdown = exportMarkdown(sampleTraceFile());
  assert.match(markdown, /^\| 2 \| 0\.12 \| 0\.900 \| 0\.780 \| 0\.850 \| 0\.730 \| reflection \(wait\) \| -1\.40 \| Wait, let me/m);
  assert.match(markdown, /^\| 6 \| n\/p \| — \| — \| — \| — \| reflection \(hmm\) \| -1\.90 \|/m);
  const rows = markdown.split('\n').filter((line) => /^\| \d+ \| /.test(line) && line.split(' | ').length === 9);
  assert.equal(rows.length, 8);
});

test('the trace carries an inline marker before every step, line breaks kept', () => {
  const markdown = exportMarkdown(sampleTraceFile());
  assert.match(markdown, /\*\*\\\[#2 · reflection \(wait\) · TTS 0\.12\\\]\*\* Wait, let me double-check/);
  assert.match(markdown, /\*\*\\\[#6 · reflection \(hmm\) · TTS n\/p\\\]\*\* Hmm,/);
  assert.match(markdown, /Assistant: \\<think\\>\\\n\*\*\\\[#0/);
});

test('persona turns and the floor are listed', () => {
  const markdown = exportMarkdown(sampleTraceFile());
  assert.match(markdown, /^\| 5 \| 0\.900 \| yes \| Hmph\. Fine\./m);
  assert.match(markdown, /Capping floor τ = 1\.200\./);
});

test('Markdown and HTML syntax in trace strings is escaped everywhere', () => {
  const markdown = exportMarkdown(hostileTraceFile());
  assert.doesNotMatch(markdown, /(^|[^\\])</m, 'every < is escaped');
  assert.doesNotMatch(markdown, /(^|[^\\])`/m, 'every backtick is escaped');
  assert.doesNotMatch(markdown, /(^|[^\\])\]\(/m, 'no link can form');
  for (const line of markdown.split('\n').filter((l) => l.startsWith('| '))) {
    const cells = line.replace(/\\\|/g, '').split('|').length - 2;
    assert.ok([4, 8, 9].includes(cells), `table row keeps its columns: ${line.slice(0, 80)}`);
  }
});

test('bidi controls are shown as visible markers, never passed through', () => {
  const markdown = exportMarkdown(hostileTraceFile());
  assert.doesNotMatch(markdown, /[\u202A-\u202E\u2066-\u2069]/);
  assert.match(markdown, /user\\\[U\+202E\\\]gnp\.exe/);
});

test('inline escaping keeps table cells on one line and pipes literal', () => {
  assert.equal(escapeMarkdownInline('a | b\nc `d` <e>'), 'a \\| b c \\`d\\` \\<e\\>');
});

test('text that would open a heading, list or code block stays a plain line', () => {
  const file = sampleTraceFile();
  file.source.text = '# not a heading\n1. not a list\n    not code\n- nor this';
  file.steps = [];
  file.turns = [];
  const trace = exportMarkdown(file).split('## Trace\n\n')[1];
  assert.equal(trace, '\\# not a heading\\\n1\\. not a list\\\n\u00a0\u00a0\u00a0\u00a0not code\\\n\\- nor this\n');
});

test('a steered comparison gets its own section with the alignment', () => {
  const markdown = exportMarkdown(hostileTraceFile());
  assert.match(markdown, /## Steered comparison/);
  assert.match(markdown, /### Baseline reply[\s\S]*### Steered reply/);
});

test('uninformative scores are exported as such, with the model\'s own answer when it differs', () => {
  const file = { ...sampleTraceFile(), answerCheck: { modelAnswer: '6:30 pm', traceAnswer: '6:15 pm', confidence: 1e-7, agrees: false, tts: 'uninformative' as const } };
  const markdown = exportMarkdown(file);
  assert.match(markdown, /^\| 2 \| uninformative \| 0\.900 \|/m);
  assert.match(markdown, /^- Warning: TTS is uninformative: after the whole trace the model gives the answer "6:15 pm" S = 1\.0e-7/m);
  assert.match(markdown, /^- Warning: the model's own answer after the trace is "6:30 pm", not the scored "6:15 pm"/m);
});
