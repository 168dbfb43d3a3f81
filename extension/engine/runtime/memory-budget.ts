// How many new tokens one forward may hold. A forward's working memory beyond the weights and the KV
// cache grows with (new tokens × keys): attention scores, their mask and their softmax per head. A long
// prefill is therefore run in chunks of rows, and TTS packs are sized, so that this stays within a budget.

import { freemem } from 'node:os';
import type { ModelSpec } from '../../common/model-spec';

const MIB = 1024 * 1024;
/** The default budget is this share of the memory free when the model opens... */
const FREE_MEMORY_SHARE = 1 / 8;
/** ...kept between these bounds: enough rows to keep the weights busy, and never the whole machine. */
const MIN_BUDGET = 128 * MIB;
const MAX_BUDGET = 512 * MIB;
/** Live [heads, rows, keys] float32 tensors of one attention: scores, masked scores, probabilities. */
const SCORE_COPIES = 3;

/** The budget in bytes when none is set: an eighth of free memory, between 128 MiB and 512 MiB. */
export function defaultMemoryBudget(free = freemem()): number {
  return Math.round(Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, free * FREE_MEMORY_SHARE)));
}

/** A budget given in MiB by a user (CLI flag, setting): 0 or absent means the default. */
export function memoryBudgetFromMib(mib: number | undefined): number {
  if (mib === undefined || mib === 0) return defaultMemoryBudget();
  if (!Number.isFinite(mib) || mib < 0) throw new RangeError(`the memory budget must be a positive number of MiB (or 0 for the default); got ${mib}`);
  return Math.round(mib * MIB);
}

/** Bytes one new token costs a forward over `keys` keys (the cache and the new tokens). */
export function bytesPerRow(spec: ModelSpec, keys: number): number {
  const group = spec.numHeads / spec.numKvHeads;
  const masks = spec.slidingWindows.some((w) => w !== null) ? 2 : 1;
  const attention = keys * (SCORE_COPIES * spec.numHeads + masks * group);
  // Projections, norms and the MLP's gate, up and product per token; the hook outputs.
  const activations = 12 * spec.hiddenSize + 3 * spec.intermediateSize + 3 * spec.numHeads * spec.headDim;
  return 4 * (attention + activations);
}

/** New tokens a forward over `keys` keys may take within `budget` bytes (at least one). */
export function rowsWithinBudget(spec: ModelSpec, keys: number, budget: number): number {
  return Math.max(1, Math.floor(budget / bytesPerRow(spec, keys)));
}

/** Rows of logits one forward may return within `budget` bytes: [rows, vocabulary] float32, held by onnxruntime and copied out. */
export function logitRowsWithinBudget(spec: ModelSpec, budget: number): number {
  return Math.max(1, Math.floor(budget / (2 * 4 * spec.vocabSize)));
}
