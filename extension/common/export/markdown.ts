// Markdown export for issues, papers and pull requests: a table of steps and the trace with inline
// markers. Every string from the trace is escaped, so it renders as the text it is.

import { readableTrace } from './readable-trace';
import type { ReplyRecord, StepAnnotation, TraceFile } from '../bundle/trace-file';
import { validateTraceFile } from '../bundle/trace-load';
import { excerpt, formatNumber, formatSeal, formatTts, revealControls } from './format';
import { answerWarnings } from '../analysis/tts';
import { replySummaryRows } from '../analysis/reply-summary';

/** Characters that start Markdown or HTML syntax anywhere in a line. */
const INLINE_SYNTAX = /[\\`*_[\]<>|~&$]/g;
/** Line starts that would become a heading, quote, list, setext underline or code block. */
const BLOCK_START = /^(\s*)([#>+=-]|\d+[.)])/;

/** Escapes text for a single-line context (a table cell or a list item). */
export function escapeMarkdownInline(text: string): string {
  return revealControls(text).replace(/\s+/g, ' ').replace(INLINE_SYNTAX, '\\$&');
}

/** Escapes a piece of one line; at a line start, also what would open a block (heading, list…). */
function escapeMarkdownLine(piece: string, atLineStart: boolean): string {
  const escaped = revealControls(piece).replace(/\r/g, ' ').replace(INLINE_SYNTAX, '\\$&');
  if (!atLineStart) return escaped;
  // A leading indent of four spaces would open a code block; non-breaking spaces keep the indent.
  return escaped.replace(/^ +/, (spaces) => '\u00a0'.repeat(spaces.length)).replace(BLOCK_START, (_m, lead, start: string) => `${lead}${start.slice(0, -1)}\\${start.slice(-1)}`);
}

/** The Markdown for a trace file; the file is validated first, so every field has the type it claims. */
export function exportMarkdown(unchecked: TraceFile): string {
  const file = validateTraceFile(unchecked);
  const out: string[] = [`# ThinkScope trace: ${escapeMarkdownInline(file.source.name)}`, '', ...summary(file), ''];
  const readable = readableTrace(file);
  out.push('## Steps', '', ...stepsTable(readable.steps, file), '');
  if (file.turns.length > 0) out.push('## Persona projection per turn', '', ...turnsTable(file), '');
  if (file.comparison) out.push(...comparisonSection(file.comparison), '');
  out.push('## Trace', '', ...annotatedText(readable.text, readable.steps), '');
  return out.join('\n');
}

function summary(file: TraceFile): string[] {
  const lines = [
    `- Source: ${escapeMarkdownInline(file.source.name)} (${file.source.format}), ${file.steps.length} steps, segmented by ${file.segmentation}`,
    `- Tool: ThinkScope ${escapeMarkdownInline(file.tool.version)}, ${escapeMarkdownInline(file.createdAt)}`,
  ];
  const model = file.model;
  if (model) {
    lines.push(
      `- Model: ${escapeMarkdownInline(model.name)} (${escapeMarkdownInline(model.architecture)}, ${model.numLayers} layers, hidden ${model.hiddenSize}, ${model.precision}, weights ${escapeMarkdownInline(model.weightsHash.slice(0, 12))})`,
    );
  }
  for (const d of file.directions) {
    lines.push(`- Direction: ${escapeMarkdownInline(d.name)} (${escapeMarkdownInline(d.method)}, ${escapeMarkdownInline(d.hook)}, layers ${d.layers.join(', ')})`);
  }
  for (const s of file.steering) {
    lines.push(`- Steering: ${s.method} ${escapeMarkdownInline(s.direction)} × ${s.strength} at layers ${s.layers.join(', ')}`);
  }
  if (file.answerCheck) {
    for (const warning of answerWarnings(file.answerCheck, file.settings.answer ?? '')) lines.push(`- Warning: ${escapeMarkdownInline(warning)}`);
  }
  return lines;
}

function stepsTable(steps: StepAnnotation[], file: TraceFile): string[] {
  if (steps.length === 0) return ['No steps.'];
  return [
    '| # | TTS | S₁₁ | S₀₁ | S₁₀ | S₀₀ | SEAL | Latent | Step |',
    '|--:|--:|--:|--:|--:|--:|---|--:|---|',
    ...steps.map((s) =>
      [
        s.index,
        formatTts(s, file),
        ...[s.s11, s.s01, s.s10, s.s00].map((v) => formatNumber(v)),
        escapeMarkdownInline(formatSeal(s)),
        formatNumber(s.latentScore, 2),
        escapeMarkdownInline(excerpt(s.text, 80)),
      ].join(' | '),
    ).map((row) => `| ${row} |`),
  ];
}

function turnsTable(file: TraceFile): string[] {
  const floor = file.personaFloor === null ? [] : ['', `Capping floor τ = ${formatNumber(file.personaFloor)}.`];
  return [
    '| Turn | Projection | Below floor | Text |',
    '|--:|--:|---|---|',
    ...file.turns.map(
      (t) => `| ${t.turn} | ${formatNumber(t.projection)} | ${t.belowFloor ? 'yes' : 'no'} | ${escapeMarkdownInline(excerpt(file.source.text.slice(t.start, t.end), 60))} |`,
    ),
    ...floor,
  ];
}

function comparisonSection(comparison: NonNullable<TraceFile['comparison']>): string[] {
  const byIndex = (reply: ReplyRecord) => new Map(reply.steps.map((s) => [s.index, s]));
  const baseline = byIndex(comparison.baseline);
  const steered = byIndex(comparison.steered);
  const cell = (step: StepAnnotation | undefined) =>
    step ? `${step.index} | ${escapeMarkdownInline(formatSeal(step))} | ${formatTts(step)} | ${escapeMarkdownInline(excerpt(step.text, 50))}` : '— | | | ';
  return [
    '## Steered comparison',
    '',
    `Prompt: ${escapeMarkdownInline(comparison.prompt)}`,
    '',
    '| Baseline # | SEAL | TTS | Baseline step | Steered # | SEAL | TTS | Steered step |',
    '|--:|---|--:|---|--:|---|--:|---|',
    ...comparison.alignment.map(([b, s]) => `| ${cell(baseline.get(b))} | ${cell(steered.get(s))} |`),
    '',
    ...scoreTable([comparison.baseline, comparison.steered]),
    '### Baseline reply',
    '',
    ...annotatedText(comparison.baseline.text, comparison.baseline.steps),
    '',
    '### Steered reply',
    '',
    ...annotatedText(comparison.steered.text, comparison.steered.steps),
  ];
}

/** How the scores moved from the baseline to the steered reply (the Steering panel's summary); nothing for keyword classes alone. */
function scoreTable(replies: ReplyRecord[]): string[] {
  if (!replies.some((reply) => reply.scoring)) return [];
  const cell = (text: string, notScored: string | null) => (notScored ? `*${escapeMarkdownInline(notScored)}*` : escapeMarkdownInline(text));
  return [
    '### Scores',
    '',
    '| | Baseline | Steered | Change |',
    '|---|--:|--:|--:|',
    ...replySummaryRows(replies).map((row) => `| ${escapeMarkdownInline(row.label)} | ${row.cells.map((c) => cell(c.text, c.notScored)).join(' | ')} | ${escapeMarkdownInline(row.change ?? '')} |`),
    '',
  ];
}

function marker(step: StepAnnotation): string {
  const parts = [`#${step.index}`, escapeMarkdownInline(formatSeal(step)), `TTS ${formatTts(step)}`];
  return `**\\[${parts.join(' · ')}\\]** `;
}

/** The text with a bold marker before every step; line breaks kept as hard breaks. */
function annotatedText(text: string, steps: StepAnnotation[]): string[] {
  const lines: string[] = [];
  let next = 0;
  let lineStart = 0;
  for (const line of text.split('\n')) {
    const lineEnd = lineStart + line.length;
    let rendered = '';
    let cursor = lineStart;
    while (next < steps.length && steps[next].start <= lineEnd) {
      const step = steps[next++];
      rendered += escapeMarkdownLine(text.slice(cursor, step.start), rendered === '') + marker(step);
      cursor = step.start;
    }
    rendered += escapeMarkdownLine(text.slice(cursor, lineEnd).replace(/\r$/, ''), rendered === '');
    lines.push(rendered);
    lineStart = lineEnd + 1;
  }
  // A backslash at the end of a line is a hard line break, so single newlines of the trace survive.
  return lines.map((line, i) => (line.trim() !== '' && lines[i + 1]?.trim() ? `${line}\\` : line));
}
