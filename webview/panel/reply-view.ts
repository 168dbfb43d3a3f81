// The replies of a steered generation: baseline and steered side by side while they stream, then
// both re-scored and step-aligned, so the user sees how SEAL classes and TTS moved (a steered reply
// generated without a baseline is scored on its own).
import type { Comparison, ReplyRecord } from '../../extension/common/bundle/trace-file';
import { excerpt, formatNumber, formatTts } from '../../extension/common/export/format';
import { isReplyBusy, type ReplyState } from '../../extension/common/webview-protocol';
import { replySummaryRows } from '../../extension/common/analysis/reply-summary';
import { h, section, toolkit, traceText } from './dom';

const STATUS_TEXT: Record<ReplyState['status'], string> = {
  running: 'Generating…',
  scoring: 'Generated. Scoring both replies as Analyze Trace scores a trace…',
  done: 'Done: both replies were scored and aligned step by step.',
  cancelled: 'Cancelled: what was generated so far is shown.',
  failed: 'Generation failed.',
  interrupted: 'Interrupted by a window reload: what was generated before it is shown.',
};

/** The status in words; a pair cancelled while being scored keeps its keyword classes. */
function statusText(reply: ReplyState): string {
  if (reply.status === 'cancelled' && reply.steered.done && reply.comparison) return 'Cancelled while scoring: both replies keep their keyword classes only.';
  if (!reply.baseline) {
    if (reply.status === 'scoring') return 'Generated. Scoring the reply as Analyze Trace scores a trace…';
    if (reply.status === 'cancelled' && reply.steered.done) return 'Cancelled while scoring: the reply is not scored.';
    if (reply.status === 'done') return reply.scored ? 'Done: the reply was scored.' : 'Done.';
  }
  if (reply.status === 'done' && !reply.comparison) return 'Done.';
  return STATUS_TEXT[reply.status];
}

export interface ReplyView {
  /** Updates the view in place when only the streamed texts changed; false when it must be rebuilt. */
  update(reply: ReplyState): boolean;
  readonly alignedRows: number;
}

function shape(reply: ReplyState): string {
  return `${reply.status}|${reply.baseline !== null}|${reply.comparison !== null}|${Boolean(reply.scored)}|${reply.error}|${reply.warnings.length}|${reply.scoredAs}`;
}

export function renderReply(root: HTMLElement, reply: ReplyState | null): ReplyView {
  root.replaceChildren();
  if (!reply) return { update: () => false, alignedRows: 0 };
  const status = h('p', { class: `ts-reply-status ts-status-${reply.status}`, role: 'status' });
  if (isReplyBusy(reply)) status.append(toolkit('vscode-progress-ring', { 'aria-label': reply.status === 'scoring' ? 'Scoring' : 'Generating' }));
  status.append(statusText(reply));
  if (reply.error) status.append(h('span', { class: 'ts-error' }, ` ${traceText(reply.error)}`));
  const progress = h('p', { class: 'ts-muted ts-reply-progress', 'aria-live': 'polite', hidden: !reply.progress }, reply.progress ?? '');
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
  const content: (HTMLElement | null)[] = [h('p', { class: 'ts-prompt-echo', title: traceText(reply.prompt) }, h('span', { class: 'ts-muted' }, 'Prompt: '), traceText(excerpt(reply.prompt, 200))), status, progress, ...warnings, columns];
  let alignedRows = 0;
  const scored = scoredReplies(reply);
  if (scored.length > 0) {
    const table = reply.comparison ? alignmentTable(reply.comparison) : stepTable(scored[0].record);
    alignedRows = table.rows;
    content.push(scoredWith(reply), scoreSummary(scored), table.element);
  }
  root.append(section('Replies', ...content));

  const current = shape(reply);
  return {
    alignedRows,
    update(next) {
      if (shape(next) !== current) return false;
      progress.textContent = next.progress ?? '';
      progress.hidden = !next.progress;
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

/** What scored the pair: whose analyses, and with which directions (each reply says what it could not score). */
function scoredWith(reply: ReplyState): HTMLElement | null {
  const records = scoredReplies(reply).map((r) => r.record);
  const scoring = records.at(-1)?.scoring ?? records[0]?.scoring;
  if (!reply.scoredAs) return null;
  if (!scoring) return h('p', { class: 'ts-muted ts-scored-with' }, `Scored ${reply.scoredAs}: keyword classes so far.`);
  const parts = [
    records.some((r) => r.scoring?.ttsAnswer != null) ? `TTS against ${records.length > 1 ? 'each reply\'s' : 'the reply\'s'} own \\boxed{} answer` : null,
    scoring.sealDirection ? `SEAL classes and latent score (${scoring.sealDirection}, layer ${scoring.sealLayer ?? '—'})` : 'SEAL keyword classes',
    scoring.axis ? `persona projection on ${scoring.axis} (layer ${scoring.personaLayer ?? '—'})` : null,
  ].filter((part): part is string => part !== null);
  return h('p', { class: 'ts-muted ts-scored-with' }, `Scored ${reply.scoredAs}: ${traceText(parts.join(' · '))}.`);
}

/** A cell of the summary: the value, or what the reply could not score and why. */
function valueCell(value: string, note: string | null = null): HTMLElement {
  return note ? h('td', { class: 'ts-muted ts-not-scored', title: note }, note) : h('td', { class: 'ts-number' }, value);
}

interface ScoredReply {
  label: string;
  record: ReplyRecord;
}

/** The replies with scores: baseline and steered of a pair, or the steered reply alone. */
function scoredReplies(reply: ReplyState): ScoredReply[] {
  if (reply.comparison) return [{ label: 'Baseline', record: reply.comparison.baseline }, { label: 'Steered', record: reply.comparison.steered }];
  return reply.scored ? [{ label: 'Steered', record: reply.scored }] : [];
}

/** Per SEAL class: how many steps each reply has; then the scores each analysis gave each reply (and, for a pair, the change). */
function scoreSummary(replies: ScoredReply[]): HTMLElement {
  const pair = replies.length === 2;
  const head = h('tr', {}, h('th', { scope: 'col' }, ''), ...replies.map((r) => h('th', { scope: 'col' }, r.label)), pair ? h('th', { scope: 'col' }, 'Change') : null);
  const body = h('tbody');
  for (const row of replySummaryRows(replies.map((r) => r.record))) {
    body.append(
      h(
        'tr',
        { class: row.belowFloor ? 'ts-below-floor-row' : null },
        h('th', { scope: 'row' }, row.sealClass ? chip(row.sealClass) : row.label),
        ...row.cells.map((cell) => valueCell(traceText(cell.text), cell.notScored)),
        pair ? h('td', { class: row.change === null ? null : 'ts-number' }, row.change ?? '') : null,
      ),
    );
  }
  return h('table', { class: 'ts-table ts-score-summary', 'aria-label': pair ? 'How the scores moved' : 'The reply\'s scores' }, h('thead', {}, head), body);
}

function chip(category: string): HTMLElement {
  return h('span', { class: `ts-chip ts-chip-${category}` }, category);
}

function stepCell(reply: ReplyRecord, index: number): HTMLElement {
  const step = reply.steps.find((s) => s.index === index);
  if (!step) return h('td', { class: 'ts-muted' }, '— (no counterpart)');
  // TTS only where it was scored: the summary says why a reply has none.
  const ttsScored = reply.scoring?.ttsAnswer != null;
  return h(
    'td',
    { title: traceText(step.text) },
    chip(step.sealClass ?? 'unclassified'),
    !ttsScored ? null : h('span', { class: 'ts-tts' }, `TTS ${formatTts(step, { answerCheck: reply.scoring?.answerCheck ?? null })}`),
    step.latentScore === null ? null : h('span', { class: 'ts-latent', title: 'SEAL latent score' }, `latent ${formatNumber(step.latentScore, 2)}`),
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

/** One row per step of a reply scored on its own. */
function stepTable(reply: ReplyRecord): { element: HTMLElement; rows: number } {
  const body = h('tbody');
  reply.steps.forEach((step, i) => body.append(h('tr', {}, h('td', { class: 'ts-number' }, String(i + 1)), stepCell(reply, step.index))));
  const element = h(
    'div',
    { class: 'ts-table-scroll' },
    h('table', { class: 'ts-table ts-alignment', 'aria-label': 'Steps of the reply' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Steered step'))), body),
  );
  return { element, rows: reply.steps.length };
}
