// Progress reporting and cancellation shared by every long engine operation.

import type { RequestContext } from '../../common/rpc';

export interface ProgressUpdate {
  message: string;
  done: number;
  total: number;
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

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
