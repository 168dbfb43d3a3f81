// Progress reporting and cancellation shared by every long engine operation.

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

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
