// Repeated timing and its summary: every figure is the median of several runs, with min and max.

/** One value per run. */
export type Sample = number[];

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(sample: Sample): Summary {
  if (sample.length === 0) throw new Error('cannot summarize an empty sample');
  const sorted = [...sample].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

/** Runs `body` `runs` times and returns each run's wall time in seconds. */
export async function repeat(runs: number, body: (run: number) => Promise<void>): Promise<Sample> {
  const seconds: Sample = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    await body(run);
    seconds.push((performance.now() - start) / 1000);
  }
  return seconds;
}

/**
 * Two-sided exact sign test: the chance that pairs falling to either side with equal odds split at
 * least as unevenly as `a` against `b`. Used on the positions where only one of two formats misses.
 */
export function signTestP(a: number, b: number): number {
  const n = a + b;
  // Terms C(n, i) / 2^n summed from their logarithms: 2^-n alone underflows past n = 1074.
  let logTerm = -n * Math.LN2;
  let tail = Math.exp(logTerm);
  for (let i = 1; i <= Math.min(a, b); i++) {
    logTerm += Math.log((n - i + 1) / i);
    tail += Math.exp(logTerm);
  }
  return Math.min(1, 2 * tail);
}
