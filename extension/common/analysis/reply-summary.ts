// How scored replies came out, row by row: steps per SEAL class, mean TTS, the answer TTS measures,
// mean SEAL latent score, persona projection against its floor; for a baseline and steered pair, the
// change too. The Steering panel's summary and the exports' are these rows, so they cannot disagree.

import type { ReplyRecord, StepAnnotation } from '../bundle/trace-file';
import { formatNumber } from '../export/format';
import type { SealClass } from '../trace/types';

export type SealCategory = SealClass | 'unclassified';
export const SEAL_CATEGORIES: readonly SealCategory[] = ['execution', 'reflection', 'transition', 'unclassified'];

export function sealCounts(steps: readonly StepAnnotation[]): Record<SealCategory, number> {
  const counts: Record<SealCategory, number> = { execution: 0, reflection: 0, transition: 0, unclassified: 0 };
  for (const step of steps) counts[step.sealClass ?? 'unclassified']++;
  return counts;
}

/** One reply's cell: its value, or what it did not score and why. */
export interface SummaryCell {
  text: string;
  /** Set when the analysis was chosen but not scored for this reply: the reason, shown instead of a value. */
  notScored: string | null;
}

export interface SummaryRow {
  label: string;
  /** Set on the rows that count steps of one SEAL class. */
  sealClass?: SealCategory;
  /** The row that marks projections below the persona floor. */
  belowFloor?: true;
  cells: SummaryCell[];
  /** The steered reply's value minus the baseline's, for a pair; null for one reply or a row without a change. */
  change: string | null;
}

/** The rows for one scored reply, or for a baseline and steered pair (in that order). */
export function replySummaryRows(records: readonly ReplyRecord[]): SummaryRow[] {
  const pair = records.length === 2;
  const rows: SummaryRow[] = [];
  const numbers = (label: string, values: (number | null)[], digits: number, notes: (string | null)[] = [], sealClass?: SealCategory) =>
    rows.push({
      label,
      ...(sealClass ? { sealClass } : {}),
      cells: values.map((v, i) => ({ text: notes[i] ? '' : formatNumber(v, digits), notScored: notes[i] ?? null })),
      change: pair ? change(values[0], values[1], digits) : null,
    });
  numbers('steps', records.map((r) => r.steps.length), 0);
  const counts = records.map((r) => sealCounts(r.steps));
  for (const category of SEAL_CATEGORIES) {
    if (counts.every((c) => c[category] === 0)) continue;
    numbers(category, counts.map((c) => c[category]), 0, [], category);
  }
  const ttsNotes = records.map((r) => notScored(r, /TTS/));
  const tts = records.map((r) => (r.scoring?.answerCheck?.tts === 'uninformative' ? null : mean(r.steps.map((s) => s.tts))));
  if (ttsNotes.some(Boolean) || tts.some((v) => v !== null)) numbers('mean TTS', tts, 2, ttsNotes);
  const answers = records.map((r) => r.scoring?.ttsAnswer ?? null);
  if (answers.some((a) => a !== null)) {
    rows.push({ label: 'answer TTS measures', cells: answers.map((a, i) => (a === null ? { text: '', notScored: ttsNotes[i] ?? '—' } : { text: a, notScored: null })), change: null });
  }
  const latent = records.map((r) => mean(r.steps.map((s) => s.latentScore)));
  if (latent.some((v) => v !== null)) numbers('mean SEAL latent', latent, 2, records.map((r) => notScored(r, /SEAL/)));
  const persona = records.map((r) => r.scoring?.personaProjection ?? null);
  const personaNotes = records.map((r) => notScored(r, /persona/));
  if (persona.some((v) => v !== null) || personaNotes.some(Boolean)) {
    const floor = records.map((r) => r.scoring?.personaFloor ?? null).find((f) => f !== null) ?? null;
    numbers(floor === null ? 'persona projection' : `persona projection (floor τ ${formatNumber(floor, 2)})`, persona, 2, personaNotes);
    // Below the floor: the reply has drifted from the Assistant (what capping would lift).
    const below = persona.map((value) => (value !== null && floor !== null && value < floor ? 'below τ' : ''));
    if (below.some(Boolean)) rows.push({ label: '', belowFloor: true, cells: below.map((text) => ({ text, notScored: null })), change: null });
  }
  return rows;
}

/** The note of the chosen analysis a reply did not score, if any. */
function notScored(reply: ReplyRecord, what: RegExp): string | null {
  return reply.scoring?.notScored.find((note) => what.test(note)) ?? null;
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
