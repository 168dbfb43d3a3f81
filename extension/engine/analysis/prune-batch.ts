// Pruning a folder of traces under several rules: every trace scored once, pruned under each rule, and
// the batch's table and chart (tokens saved vs answers kept, one point per rule) written beside each
// other. The CLI's `prune FOLDER` and the editor's "Prune a Folder of Traces" run this same code.

import { join } from 'node:path';
import type { PruneRecord, PruneRule } from '../../common/bundle/trace-file';
import { prunePoints, pruneChartSvg, pruneTable, pruneTableRows, type PrunePoint } from '../../common/analysis/prune';
import type { SegmentationPolicy } from '../../common/trace/types';
import { writeFileAtomically } from '../atomic-write';
import type { TraceDocument } from '../inputs';
import type { Model } from '../model';
import type { Progress } from '../runtime/progress';
import { pruneTrace } from './prune';

export interface PruneBatchOptions extends Progress {
  toolVersion: string;
  segmentation: SegmentationPolicy;
  rules: readonly PruneRule[];
  cue?: string;
  answer?: string;
  /** Called after each trace with its records (the CLI prints one line per rule). */
  onTrace?: (document: TraceDocument, records: PruneRecord[], stepCount: number) => void;
}

export interface PruneReport {
  traces: number;
  records: PruneRecord[];
  points: PrunePoint[];
  /** The table's cells, one row per rule (PRUNE_TABLE_COLUMNS): what the written table and the panel show. */
  rows: string[][];
  /** The Markdown table, one row per rule. */
  table: string;
  /** The files written: the table (Markdown, with the chart inline), the chart (SVG) and every record (JSONL). */
  written: { table: string; chart: string; records: string };
}

export async function pruneDocuments(model: Model, documents: readonly TraceDocument[], options: PruneBatchOptions): Promise<PruneRecord[]> {
  const records: PruneRecord[] = [];
  for (const [n, doc] of documents.entries()) {
    const result = await pruneTrace(model, doc.trace, {
      name: doc.name,
      toolVersion: options.toolVersion,
      segmentation: options.segmentation,
      conversation: doc.conversation,
      cue: options.cue,
      answer: options.answer,
      rules: options.rules,
      signal: options.signal,
      report: options.report && ((update) => options.report!({ ...update, message: `${documents.length > 1 ? `trace ${n + 1} of ${documents.length}: ` : ''}${update.message}` })),
    });
    const traceRecords = result.pruned.map((pruned) => pruned.record);
    options.onTrace?.(doc, traceRecords, result.steps.length);
    records.push(...traceRecords);
  }
  return records;
}

/** Writes prune-table.md, prune-chart.svg and prune-results.jsonl into `out` (each whole or not at all). */
export async function writePruneReport(out: string, records: readonly PruneRecord[], traces: number): Promise<PruneReport> {
  const points = prunePoints(records);
  const table = pruneTable(points);
  const written = { table: join(out, 'prune-table.md'), chart: join(out, 'prune-chart.svg'), records: join(out, 'prune-results.jsonl') };
  await writeFileAtomically(written.chart, pruneChartSvg(points));
  await writeFileAtomically(written.records, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
  await writeFileAtomically(written.table, `# Pruning ${traces} traces\n\n${table}\n![tokens saved vs answers kept](prune-chart.svg)\n`);
  return { traces, records: [...records], points, rows: pruneTableRows(points), table, written };
}
