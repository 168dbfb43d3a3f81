// The replies of a steered generation: baseline and steered side by side while they stream, then
// both re-scored and step-aligned, so the user sees how SEAL classes and TTS moved (a steered reply
// generated without a baseline is scored on its own).
import type { Comparison, ReplyRecord } from '../../extension/common/bundle/trace-file';
import { excerpt, formatNumber, formatTts } from '../../extension/common/export/format';
import { isReplyBusy, type ReplyState } from '../../extension/common/webview-protocol';
import { SEAL_CATEGORIES, sealCounts } from '../charts';
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

function mean(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

function change(before: number | null, after: number | null, digits: number): string {
  if (before === null || after === null) return '—';
  const delta = after - before;
  if (Math.abs(delta) < 10 ** -digits / 2) return '±0';
  return `${delta > 0 ? '+' : '−'}${formatNumber(Math.abs(delta), digits)}`;
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

/** The note of the chosen analysis a reply did not score, if any. */
function notScored(reply: ReplyRecord, what: RegExp): string | null {
  return reply.scoring?.notScored.find((note) => what.test(note)) ?? null;
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
  const records = replies.map((r) => r.record);
  const pair = records.length === 2;
  const counts = records.map((r) => sealCounts(r.steps));
  const head = h('tr', {}, h('th', { scope: 'col' }, ''), ...replies.map((r) => h('th', { scope: 'col' }, r.label)), pair ? h('th', { scope: 'col' }, 'Change') : null);
  const body = h('tbody');
  const changeCell = (values: (number | null)[], digits: number) => (pair ? h('td', { class: 'ts-number' }, change(values[0], values[1], digits)) : null);
  const row = (label: HTMLElement | string, values: (number | null)[], digits: number, notes: (string | null)[] = []) =>
    body.append(h('tr', {}, h('th', { scope: 'row' }, label), ...values.map((v, i) => valueCell(formatNumber(v, digits), notes[i] ?? null)), changeCell(values, digits)));
  row('steps', records.map((r) => r.steps.length), 0);
  for (const category of SEAL_CATEGORIES) {
    if (counts.every((c) => c[category] === 0)) continue;
    row(chip(category), counts.map((c) => c[category]), 0);
  }
  const tts = (reply: ReplyRecord) => (reply.scoring?.answerCheck?.tts === 'uninformative' ? null : mean(reply.steps.map((s) => s.tts)));
  const ttsNotes = records.map((r) => notScored(r, /TTS/));
  const ttsValues = records.map(tts);
  if (ttsNotes.some(Boolean) || ttsValues.some((v) => v !== null)) row('mean TTS', ttsValues, 2, ttsNotes);
  const answers = records.map((reply) => reply.scoring?.ttsAnswer ?? null);
  if (answers.some((a) => a !== null)) {
    body.append(h('tr', {}, h('th', { scope: 'row' }, 'answer TTS measures'), ...answers.map((a, i) => valueCell(a === null ? '' : traceText(a), a === null ? ttsNotes[i] ?? '—' : null)), pair ? h('td', {}) : null));
  }
  const latent = records.map((reply) => mean(reply.steps.map((s) => s.latentScore)));
  if (latent.some((v) => v !== null)) row('mean SEAL latent', latent, 2, records.map((r) => notScored(r, /SEAL/)));
  const persona = records.map((reply) => reply.scoring?.personaProjection ?? null);
  const personaNotes = records.map((r) => notScored(r, /persona/));
  if (persona.some((v) => v !== null) || personaNotes.some(Boolean)) {
    const floor = records.map((r) => r.scoring?.personaFloor ?? null).find((f) => f !== null) ?? null;
    row(floor === null ? 'persona projection' : `persona projection (floor τ ${formatNumber(floor, 2)})`, persona, 2, personaNotes);
    // Below the floor: the reply has drifted from the Assistant (what capping would lift).
    const below = persona.map((value) => (value !== null && floor !== null && value < floor ? 'below τ' : ''));
    if (below.some(Boolean)) body.append(h('tr', { class: 'ts-below-floor-row' }, h('th', { scope: 'row' }, ''), ...below.map((text) => h('td', { class: 'ts-number' }, text)), pair ? h('td', {}) : null));
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
