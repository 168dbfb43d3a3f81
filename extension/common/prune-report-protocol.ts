// The folder pruning panel's messages (ThinkScope: Prune a Folder of Traces): the host sends the batch's
// report as the engine computed it, the webview draws its chart and table and says what it drew.
import type { PrunePoint } from './analysis/prune';
import type { TypeNames } from './webview-protocol';

export const PRUNE_REPORT_VIEW_TYPE = 'thinkscope.pruneReport';

/** A batch as the panel shows it: the engine's points and rows, and where the report was written. */
export interface PruneReportState {
  /** The folder whose traces were pruned. */
  folder: string;
  traces: number;
  /** One point per rule; only tokens saved and answers kept are drawn (confidence kept is read from the rows). */
  points: PrunePoint[];
  /** The table's cells as the engine formatted them, one row per rule (PRUNE_TABLE_COLUMNS). */
  rows: string[][];
  written: { table: string; chart: string; records: string };
}

export type WrittenReportFile = keyof PruneReportState['written'];

/** What the webview drew, for tests and diagnostics. */
export interface PruneReportRender {
  /** The table's body cells as shown. */
  rows: string[][];
  /** The chart's markers (rules landing on the same spot share one). */
  markers: number;
  /** What hovering each marker shows, in the markers' order. */
  tooltips: string[];
}

export interface PruneReportHostMessages {
  report: { report: PruneReportState };
}

export interface PruneReportWebviewMessages {
  ready: Record<string, never>;
  rendered: { drawn: PruneReportRender };
  /** Open one of the written files (the shareable report). */
  openWritten: { file: WrittenReportFile };
}

export const PruneReportHostMessageType: TypeNames<PruneReportHostMessages> = { report: 'report' };
export const PruneReportWebviewMessageType: TypeNames<PruneReportWebviewMessages> = { ready: 'ready', rendered: 'rendered', openWritten: 'openWritten' };

/** Whether a value (a restored panel's saved state) is a report the panel can show. */
export function isPruneReportState(value: unknown): value is PruneReportState {
  const report = value as PruneReportState | null;
  return (
    typeof report === 'object' &&
    report !== null &&
    typeof report.folder === 'string' &&
    Number.isInteger(report.traces) &&
    Array.isArray(report.points) &&
    report.points.every((p) => typeof p === 'object' && p !== null && Number.isFinite(p.tokensSaved) && Number.isFinite(p.answersKept)) &&
    Array.isArray(report.rows) &&
    report.rows.length === report.points.length &&
    report.rows.every((row) => Array.isArray(row) && row.every((cell) => typeof cell === 'string')) &&
    typeof report.written === 'object' &&
    report.written !== null &&
    ['table', 'chart', 'records'].every((key) => typeof (report.written as Record<string, unknown>)[key] === 'string')
  );
}
