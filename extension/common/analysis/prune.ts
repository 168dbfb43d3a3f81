// Pruning decorative thinking (the TTS paper's experiment): which steps go under a rule, what a pruning
// kept, and a batch's table and chart (tokens saved against answers kept, one point per rule).

import type { PruneRecord, PruneRule } from '../bundle/trace-file';
import { escapeHtml } from '../export/html';
import { formatProbability } from './counterfactual';

/**
 * The steps a rule removes: TTS strictly below the threshold, or the lowest-TTS `value` fraction of
 * the scored steps (ties by position). Steps without a score (nothing to perturb) always stay.
 */
export function stepsToPrune(steps: readonly { index: number; tts: number | null }[], rule: PruneRule): Set<number> {
  if (!(rule.value >= 0) || (rule.kind === 'fraction' && rule.value > 1)) throw new RangeError(`a pruning ${rule.kind} must be ${rule.kind === 'fraction' ? 'between 0 and 1' : '0 or more'}; got ${rule.value}`);
  const scored = steps.filter((step): step is { index: number; tts: number } => step.tts !== null);
  if (rule.kind === 'threshold') return new Set(scored.filter((step) => step.tts < rule.value).map((step) => step.index));
  const count = Math.floor(rule.value * scored.length);
  return new Set([...scored].sort((a, b) => a.tts - b.tts || a.index - b.index).slice(0, count).map((step) => step.index));
}

/** The rules a batch compares unless told otherwise: three TTS thresholds and two shares. */
export const DEFAULT_BATCH_RULES = '0.005,0.01,0.05,25%,50%';

/** Parses a comma-separated list of rules ("0.005,25%"). */
export function parsePruneRules(text: string): PruneRule[] {
  return text.split(',').map(parsePruneRule);
}

/** Parses "0.005" (a TTS threshold) or "50%" (the lowest fraction). */
export function parsePruneRule(text: string): PruneRule {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (percent) return { kind: 'fraction', value: Number(percent[1]) / 100 };
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new RangeError(`"${text}" is not a pruning rule: give a TTS threshold (0.005) or the lowest share of steps (50%)`);
  return { kind: 'threshold', value };
}

export function describeRule(rule: PruneRule): string {
  return rule.kind === 'threshold' ? `TTS < ${rule.value}` : `lowest ${Math.round(rule.value * 1000) / 10}% by TTS`;
}

/** Share of the tokens the pruning saved, in [0, 1]. */
export function tokensSaved(record: Pick<PruneRecord, 'tokens'>): number {
  return record.tokens.before === 0 ? 0 : 1 - record.tokens.after / record.tokens.before;
}

/** The confidence left, as a share of what it was (1 when it held, more when it rose). */
export function confidenceKept(record: Pick<PruneRecord, 'before' | 'after'>): number {
  return record.before.confidence === 0 ? (record.after.confidence === 0 ? 1 : Infinity) : record.after.confidence / record.before.confidence;
}

/** Whether the model's own greedy answer is the same after the pruning. */
export function answerKept(record: Pick<PruneRecord, 'before' | 'after'>): boolean {
  return record.before.greedy === record.after.greedy;
}

/** One line: "removed 3 of 9 steps (TTS < 0.005): 31% of the tokens saved; S 0.912 → 0.905 (99% kept); answer 8 kept". */
export function describePruning(record: PruneRecord, stepCount: number): string {
  const answer = answerKept(record) ? `answer ${record.after.greedy || '“”'} kept` : `answer ${record.before.greedy || '“”'} → ${record.after.greedy || '“”'}`;
  return (
    `removed ${record.removed.length} of ${stepCount} steps (${describeRule(record.rule)}): ${percent(tokensSaved(record))} of the tokens saved; ` +
    `S ${formatProbability(record.before.confidence)} → ${formatProbability(record.after.confidence)} (${percent(confidenceKept(record))} kept); ${answer}`
  );
}

/** A batch's pruning of every trace under one rule. */
export interface PrunePoint {
  rule: PruneRule;
  traces: number;
  /** Mean share of tokens saved. */
  tokensSaved: number;
  /** Share of traces whose greedy answer stayed the same. */
  answersKept: number;
  /** Median confidence kept. */
  confidenceKept: number;
}

export function prunePoints(records: readonly PruneRecord[]): PrunePoint[] {
  const byRule = new Map<string, PruneRecord[]>();
  for (const record of records) {
    const key = `${record.rule.kind}:${record.rule.value}`;
    byRule.set(key, [...(byRule.get(key) ?? []), record]);
  }
  return [...byRule.values()].map((group) => {
    const kept = group.map(confidenceKept).sort((a, b) => a - b);
    return {
      rule: group[0].rule,
      traces: group.length,
      tokensSaved: group.reduce((sum, r) => sum + tokensSaved(r), 0) / group.length,
      answersKept: group.filter(answerKept).length / group.length,
      confidenceKept: kept.length % 2 ? kept[(kept.length - 1) / 2] : (kept[kept.length / 2 - 1] + kept[kept.length / 2]) / 2,
    };
  });
}

/** The columns of a batch's table; the CLI's Markdown, the written report and the panel show these rows. */
export const PRUNE_TABLE_COLUMNS = ['rule', 'traces', 'tokens saved (mean)', 'answer kept', 'confidence kept (median)'] as const;

/** One row per rule, its cells in the order of PRUNE_TABLE_COLUMNS. */
export function pruneTableRows(points: readonly PrunePoint[]): string[][] {
  return points.map((p) => [describeRule(p.rule), String(p.traces), percent(p.tokensSaved), percent(p.answersKept), percent(p.confidenceKept)]);
}

/** The batch as a Markdown table, one row per rule. */
export function pruneTable(points: readonly PrunePoint[]): string {
  const rows = pruneTableRows(points).map((cells) => `| ${cells.join(' | ')} |`);
  return [`| ${PRUNE_TABLE_COLUMNS.join(' | ')} |`, '|:--|--:|--:|--:|--:|', ...rows].join('\n') + '\n';
}

/** A self-contained SVG: tokens saved (x) against answers kept (y), one labelled point per rule. */
export function pruneChartSvg(points: readonly PrunePoint[]): string {
  const width = 480;
  const height = 320;
  const margin = { left: 56, right: 24, top: 24, bottom: 48 };
  const x = (v: number) => margin.left + v * (width - margin.left - margin.right);
  const y = (v: number) => height - margin.bottom - v * (height - margin.top - margin.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const sorted = [...points].sort((a, b) => a.tokensSaved - b.tokensSaved);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...ticks.map((t) => `<line x1="${x(0)}" x2="${x(1)}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${x(0) - 6}" y="${y(t) + 4}" text-anchor="end">${percent(t)}</text>`),
    ...ticks.map((t) => `<text x="${x(t)}" y="${y(0) + 16}" text-anchor="middle">${percent(t)}</text>`),
    `<line x1="${x(0)}" x2="${x(1)}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/><line x1="${x(0)}" x2="${x(0)}" y1="${y(0)}" y2="${y(1)}" stroke="#333"/>`,
    `<text x="${(x(0) + x(1)) / 2}" y="${height - 10}" text-anchor="middle">tokens saved (mean)</text>`,
    `<text transform="translate(14 ${(y(0) + y(1)) / 2}) rotate(-90)" text-anchor="middle">answer kept (share of traces)</text>`,
    sorted.length > 1 ? `<polyline fill="none" stroke="#4477aa" stroke-width="1.5" points="${sorted.map((p) => `${x(p.tokensSaved)},${y(p.answersKept)}`).join(' ')}"/>` : '',
    ...sorted.map((p) => `<circle cx="${x(p.tokensSaved)}" cy="${y(p.answersKept)}" r="4" fill="#4477aa"><title>${escapeHtml(describeRule(p.rule))}</title></circle><text x="${x(p.tokensSaved) + 6}" y="${y(p.answersKept) - 6}">${escapeHtml(describeRule(p.rule))}</text>`),
    '</svg>',
  ];
  return parts.filter(Boolean).join('\n') + '\n';
}

function percent(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value * 100)}%` : '∞';
}
