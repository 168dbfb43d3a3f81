// The replies of a steered generation: baseline and steered side by side while they stream, then
// both re-scored and step-aligned, so the user sees how SEAL classes and TTS moved.
import type { Comparison, ReplyRecord, StepAnnotation } from '../../extension/common/bundle/trace-file';
import { excerpt, formatNumber, formatTts } from '../../extension/common/export/format';
import type { ReplyState } from '../../extension/common/webview-protocol';
import { SEAL_CATEGORIES, sealCounts } from '../charts';
import { h, section, toolkit, traceText } from './dom';

const STATUS_TEXT: Record<ReplyState['status'], string> = {
  running: 'Generating…',
  done: 'Done: both replies were analysed and aligned step by step.',
  cancelled: 'Cancelled: what was generated so far is shown.',
  failed: 'Generation failed.',
  interrupted: 'Interrupted by a window reload: what was generated before it is shown.',
};

export interface ReplyView {
  /** Updates the view in place when only the streamed texts changed; false when it must be rebuilt. */
  update(reply: ReplyState): boolean;
  readonly alignedRows: number;
}

function shape(reply: ReplyState): string {
  return `${reply.status}|${reply.baseline !== null}|${reply.comparison !== null}|${reply.error}|${reply.warnings.length}`;
}

export function renderReply(root: HTMLElement, reply: ReplyState | null): ReplyView {
  root.replaceChildren();
  if (!reply) return { update: () => false, alignedRows: 0 };
  const status = h('p', { class: `ts-reply-status ts-status-${reply.status}`, role: 'status' });
  if (reply.status === 'running') status.append(toolkit('vscode-progress-ring', { 'aria-label': 'Generating' }));
  status.append(STATUS_TEXT[reply.status]);
  if (reply.error) status.append(h('span', { class: 'ts-error' }, ` ${traceText(reply.error)}`));
  const warnings = reply.warnings.map((w) => h('p', { class: 'ts-note' }, `⚠ ${traceText(w)}`));

  const column = (title: string, stream: ReplyState['steered']) => {
    const text = h('pre', { class: 'ts-reply-text', tabindex: 0, 'aria-label': `${title} reply` });
    text.textContent = traceText(stream.text) || (reply.status === 'running' ? '…' : '(empty reply)');
    const count = h('span', { class: 'ts-muted ts-token-count', 'aria-live': 'off' }, tokenCount(stream.tokens));
    return { element: h('div', { class: 'ts-reply-column' }, h('h3', {}, title, ' ', count), text), text, count };
  };
  const steered = column('Steered', reply.steered);
  const baseline = reply.baseline ? column('Baseline (unsteered)', reply.baseline) : null;
  const columns = h('div', { class: `ts-reply-columns${baseline ? '' : ' ts-single'}` }, baseline?.element, steered.element);
  const content: (HTMLElement | null)[] = [h('p', { class: 'ts-prompt-echo' }, h('span', { class: 'ts-muted' }, 'Prompt: '), traceText(excerpt(reply.prompt, 200))), status, ...warnings, columns];
  let alignedRows = 0;
  if (reply.comparison) {
    const table = alignmentTable(reply.comparison);
    alignedRows = table.rows;
    content.push(scoreSummary(reply.comparison), table.element);
  }
  root.append(section('Replies', ...content));

  const current = shape(reply);
  return {
    alignedRows,
    update(next) {
      if (shape(next) !== current) return false;
      steered.text.textContent = traceText(next.steered.text) || '…';
      steered.count.textContent = tokenCount(next.steered.tokens);
      if (baseline && next.baseline) {
        baseline.text.textContent = traceText(next.baseline.text) || '…';
        baseline.count.textContent = tokenCount(next.baseline.tokens);
      }
      return true;
    },
  };
}

/** A reply kept from an older version has no count: nothing is shown rather than a wrong one. */
function tokenCount(tokens: number | undefined): string {
  return Number.isInteger(tokens) ? `· ${tokens} token${tokens === 1 ? '' : 's'}` : '';
}

function meanTts(steps: readonly StepAnnotation[]): number | null {
  const scored = steps.map((s) => s.tts).filter((t): t is number => t !== null);
  return scored.length === 0 ? null : scored.reduce((a, b) => a + b, 0) / scored.length;
}

function change(before: number | null, after: number | null, digits: number): string {
  if (before === null || after === null) return '—';
  const delta = after - before;
  if (Math.abs(delta) < 10 ** -digits / 2) return '±0';
  return `${delta > 0 ? '+' : '−'}${formatNumber(Math.abs(delta), digits)}`;
}

/** Per SEAL class: how many steps each reply has, and the mean TTS where the replies were scored. */
function scoreSummary(comparison: Comparison): HTMLElement {
  const base = sealCounts(comparison.baseline.steps);
  const steer = sealCounts(comparison.steered.steps);
  const head = h('tr', {}, h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, 'Baseline'), h('th', { scope: 'col' }, 'Steered'), h('th', { scope: 'col' }, 'Change'));
  const body = h('tbody');
  const row = (label: HTMLElement | string, a: number | null, b: number | null, digits: number) =>
    body.append(h('tr', {}, h('th', { scope: 'row' }, label), h('td', { class: 'ts-number' }, formatNumber(a, digits)), h('td', { class: 'ts-number' }, formatNumber(b, digits)), h('td', { class: 'ts-number' }, change(a, b, digits))));
  row('steps', comparison.baseline.steps.length, comparison.steered.steps.length, 0);
  for (const category of SEAL_CATEGORIES) {
    if (base[category] === 0 && steer[category] === 0) continue;
    row(chip(category), base[category], steer[category], 0);
  }
  const a = meanTts(comparison.baseline.steps);
  const b = meanTts(comparison.steered.steps);
  if (a !== null || b !== null) row('mean TTS', a, b, 2);
  return h('table', { class: 'ts-table ts-score-summary', 'aria-label': 'How the scores moved' }, h('thead', {}, head), body);
}

function chip(category: string): HTMLElement {
  return h('span', { class: `ts-chip ts-chip-${category}` }, category);
}

function stepCell(reply: ReplyRecord, index: number): HTMLElement {
  const step = reply.steps.find((s) => s.index === index);
  if (!step) return h('td', { class: 'ts-muted' }, '— (no counterpart)');
  return h(
    'td',
    { title: traceText(step.text) },
    chip(step.sealClass ?? 'unclassified'),
    h('span', { class: 'ts-tts' }, `TTS ${formatTts(step)}`),
    h('span', { class: 'ts-step-excerpt' }, traceText(excerpt(step.text, 90))),
  );
}

/** One row per aligned pair of steps (a step without a counterpart gets an empty side). */
function alignmentTable(comparison: Comparison): { element: HTMLElement; rows: number } {
  const body = h('tbody');
  comparison.alignment.forEach(([b, s], i) => {
    body.append(h('tr', { class: b < 0 || s < 0 ? 'ts-unmatched' : null }, h('td', { class: 'ts-number' }, String(i + 1)), stepCell(comparison.baseline, b), stepCell(comparison.steered, s)));
  });
  const element = h(
    'div',
    { class: 'ts-table-scroll' },
    h('table', { class: 'ts-table ts-alignment', 'aria-label': 'Steps of both replies, aligned' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Baseline step'), h('th', { scope: 'col' }, 'Steered step'))), body),
  );
  return { element, rows: comparison.alignment.length };
}
