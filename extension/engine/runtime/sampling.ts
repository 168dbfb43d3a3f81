// Next-token choice: greedy, or temperature / top-k / top-p sampling from a seeded generator.

export interface SamplingOptions {
  /** 0 (default) means greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** splitmix32: small, fast, and the same sequence on every platform for a given seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

export class Sampler {
  private readonly random: () => number;

  constructor(private readonly options: SamplingOptions = {}) {
    const { temperature = 0, topK = 0, topP = 1 } = options;
    if (!(temperature >= 0)) throw new Error(`temperature must be ≥ 0, got ${temperature}`);
    if (!Number.isInteger(topK) || topK < 0) throw new Error(`top-k must be a non-negative integer, got ${topK}`);
    if (!(topP > 0 && topP <= 1)) throw new Error(`top-p must be in (0, 1], got ${topP}`);
    this.random = seededRandom(options.seed ?? 0);
  }

  next(logits: Float32Array): number {
    const { temperature = 0, topK = 0, topP = 1 } = this.options;
    if (temperature === 0) return argmax(logits);
    let candidates = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
    if (topK > 0) candidates = candidates.slice(0, topK);
    const top = logits[candidates[0]];
    let weights = candidates.map((i) => Math.exp((logits[i] - top) / temperature));
    let total = weights.reduce((a, b) => a + b, 0);
    if (topP < 1) {
      let cumulative = 0;
      let keep = 0;
      while (keep < candidates.length && cumulative < topP * total) cumulative += weights[keep++];
      candidates = candidates.slice(0, keep);
      weights = weights.slice(0, keep);
      total = cumulative;
    }
    let r = this.random() * total;
    for (let i = 0; i < candidates.length; i++) {
      r -= weights[i];
      if (r <= 0) return candidates[i];
    }
    return candidates[candidates.length - 1];
  }
}
