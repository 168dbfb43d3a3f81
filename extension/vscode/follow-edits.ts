// Annotations follow the text they describe: after an edit, steps behind it move by the edit's
// length, and a step whose own text changed loses its annotation (its scores were about other text).

import * as vscode from 'vscode';
import type { StepAnnotation, TraceFile, TurnProjection } from '../common/bundle/trace-file';
import type { TraceResultStore } from './trace-results';

interface TextEdit {
  /** Offset of the replaced range in the text before the edit. */
  offset: number;
  removed: number;
  inserted: number;
}

/**
 * Where a range [start, end) is after an edit, or null when the edit touched its text. Text typed
 * right at either end of the range is outside it; an edit that replaces part of it is not.
 */
function shiftRange(start: number, end: number, edit: TextEdit): { start: number; end: number } | null {
  const delta = edit.inserted - edit.removed;
  if (edit.offset + edit.removed <= start) return { start: start + delta, end: end + delta };
  if (edit.offset >= end) return { start, end };
  return null;
}

function shifted<T extends { start: number; end: number }>(items: readonly T[], edit: TextEdit): T[] {
  const kept: T[] = [];
  for (const item of items) {
    const range = shiftRange(item.start, item.end, edit);
    if (range) kept.push({ ...item, ...range });
  }
  return kept;
}

/** The trace file after edits applied in order; `text` is the document's text afterwards. */
function applyEdits(file: TraceFile, edits: readonly TextEdit[], text: string): TraceFile {
  let steps: StepAnnotation[] = file.steps;
  let turns: TurnProjection[] = file.turns;
  for (const edit of edits) {
    steps = shifted(steps, edit);
    turns = shifted(turns, edit);
  }
  return { ...file, source: { ...file.source, text }, steps, turns };
}

/** Keeps the results of every edited document in step with its text. */
export function registerFollowEdits(results: TraceResultStore): vscode.Disposable {
  return vscode.workspace.onDidChangeTextDocument((event) => {
    if (event.contentChanges.length === 0) return;
    const file = results.get(event.document.uri);
    if (!file) return;
    const edits = event.contentChanges.map((change) => ({ offset: change.rangeOffset, removed: change.rangeLength, inserted: change.text.length }));
    results.set(event.document.uri, applyEdits(file, edits, event.document.getText()));
  });
}
