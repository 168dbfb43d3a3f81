// Progress reporting and cancellation shared by every long engine operation.

import type { RequestContext } from '../../common/rpc';

export interface ProgressUpdate {
  message: string;
  done: number;
  total: number;
  /** The share of the whole operation done (0..1), when it runs in phases: `done/total` counts the phase only. */
  overall?: number;
}

export interface Progress {
  report?: (update: ProgressUpdate) => void;
  signal?: AbortSignal;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Progress and cancellation of a protocol request: updates go to the client as `progress` notifications. */
export function requestProgress(context: RequestContext): Required<Progress> {
  return { signal: context.signal, report: (update) => context.notify('progress', { requestId: context.id, ...update }) };
}

/**
 * Splits an operation into consecutive phases of the given weights, so that one bar that can only move
 * forward (VS Code's notification) crosses all of them: phase k's updates carry the whole operation's
 * share done, and a phase split again maps its own phases inside its part.
 */
export function phases(progress: Progress, weights: readonly number[]): Progress[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => progress);
  let start = 0;
  return weights.map((weight) => {
    const from = start / sum;
    const width = weight / sum;
    start += weight;
    const report = progress.report;
    return { signal: progress.signal, report: report && ((update) => report({ ...update, overall: from + width * share(update) })) };
  });
}

function share(update: ProgressUpdate): number {
  return update.overall ?? (update.total > 0 ? Math.min(1, Math.max(0, update.done / update.total)) : 0);
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
