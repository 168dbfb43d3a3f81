// Measurements against llama.cpp on the same weights, each pair taken in one process with the two
// engines' runs interleaved (ThinkScope, llama.cpp, ThinkScope, …), so that both see the same machine.

import type { Model } from '../../extension/engine/model';
import type { Precision } from '../../extension/common/precision';
import { LlamaPeer } from './llama-peer';
import type { Sample } from './stats';

/** Positions whose next-token distributions the quality figures compare: 4 prompts of 128 tokens. */
export const QUALITY_PROMPTS = 4;
export const QUALITY_TOKENS = 128;
/** The short context of the context-growth figure: decode after a prefill of this many tokens. */
export const SHORT_CONTEXT = 16;

export interface PeerPair {
  precision: Precision;
  gguf: string;
  /** Path of the GGUF file with these weights. */
  path: string;
  /** The engine has a format of this bit width (else `precision` is the nearest it has). */
  sameWidth: boolean;
}

export type Timed = (ids: number[]) => Promise<{ prefill: number; decode: number }>;

/** Prefill and decode rates of both engines, and each one's extra step time at a long context over a short one. */
export async function interleavedSpeed(ours: Timed, theirs: Timed, long: number[], runs: number, decodeTokens: number) {
  const short = long.slice(0, SHORT_CONTEXT);
  const steps = decodeTokens - 1;
  const result = {
    prefill: { ours: [] as Sample, theirs: [] as Sample },
    decode: { ours: [] as Sample, theirs: [] as Sample },
    /** ms per decode step after `long` minus after `short`. */
    growthMs: { ours: [] as Sample, theirs: [] as Sample },
  };
  // Warm-up: first-run allocations on both sides.
  await ours(short);
  await theirs(short);
  for (let run = 0; run < runs; run++) {
    for (const [side, timed] of [['ours', ours], ['theirs', theirs]] as const) {
      const full = await timed(long);
      const brief = await timed(short);
      result.prefill[side].push(long.length / full.prefill);
      result.decode[side].push(steps / full.decode);
      result.growthMs[side].push(((full.decode - brief.decode) / steps) * 1000);
    }
  }
  return result;
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const p = Float64Array.from(logits, (x) => Math.exp(x - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
}

/** How closely one format's next-token distributions follow fp32's. */
export interface Fidelity {
  meanKl: number;
  top1Agreement: number;
  /** Per position: whether the format's most likely token is fp32's (so two formats' misses can be paired). */
  top1Hits: boolean[];
}

/** Mean KL(p ‖ q) and top-1 agreement over rows of [rows, V] distributions. */
export function compareDistributions(reference: Float64Array[], other: Float64Array[]): Fidelity {
  let kl = 0;
  const top1Hits: boolean[] = [];
  reference.forEach((p, r) => {
    const q = other[r];
    let divergence = 0;
    let topP = 0;
    let topQ = 0;
    for (let v = 0; v < p.length; v++) {
      // llama.cpp reports probabilities in float32: one that underflows to 0 is floored at the smallest normal float.
      if (p[v] > 0) divergence += p[v] * Math.log(p[v] / Math.max(q[v], 1.1754943508222875e-38));
      if (p[v] > p[topP]) topP = v;
      if (q[v] > q[topQ]) topQ = v;
    }
    kl += divergence;
    top1Hits.push(topP === topQ);
  });
  return { meanKl: kl / reference.length, top1Agreement: top1Hits.filter(Boolean).length / reference.length, top1Hits };
}

/** The engine's next-token distributions after every position of each prompt. */
export async function engineDistributions(model: Model, prompts: number[][]): Promise<Float64Array[]> {
  const V = model.spec.vocabSize;
  const rows: Float64Array[] = [];
  for (const ids of prompts) {
    const logits = (await model.session.forward({ ids, logits: 'all' })).logits;
    for (let t = 0; t < ids.length; t++) rows.push(softmax(logits.subarray(t * V, (t + 1) * V)));
  }
  return rows;
}

/** llama.cpp's next-token distributions after every position of each prompt. */
export async function peerDistributions(peer: LlamaPeer, prompts: number[][], vocab: number): Promise<Float64Array[]> {
  const rows: Float64Array[] = [];
  for (const ids of prompts) {
    const probabilities = await peer.probabilities(ids, vocab);
    for (let t = 0; t < ids.length; t++) rows.push(probabilities.subarray(t * vocab, (t + 1) * vocab));
  }
  return rows;
}

/** Largest |Δ| between the two engines' next-token log-probabilities (logits up to their shift). */
export function maxLogProbDifference(ours: Float64Array[], theirs: Float64Array[]): number {
  let worst = 0;
  ours.forEach((p, r) => {
    for (let v = 0; v < p.length; v++) worst = Math.max(worst, Math.abs(Math.log(p[v]) - Math.log(theirs[r][v])));
  });
  return worst;
}
