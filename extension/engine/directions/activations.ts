// Reading activations to build and apply directions: forward passes
// over long texts in chunks (with the KV cache), so hidden states of every layer never have to be
// held for a whole trace at once.

import type { DecoderSession } from '../runtime/decoder-session';
import type { KvCache } from '../runtime/kv-cache';
import { throwIfCancelled } from '../runtime/progress';
import type { HookKind } from '../../common/hooks';

/** Tokens per captured forward: bounds the memory of a capture ([tokens, hidden] per hook). */
export const DEFAULT_CHUNK_TOKENS = 256;

/** The hook `kind` at every layer, in layer order: blocks.0.kind … blocks.{numLayers−1}.kind. */
export function layerHooks(numLayers: number, kind: HookKind): string[] {
  return Array.from({ length: numLayers }, (_, l) => `blocks.${l}.${kind}`);
}

export interface ScanOptions {
  cache?: KvCache;
  chunkTokens?: number;
  signal?: AbortSignal;
}

/**
 * Runs `ids` through the model chunk by chunk and hands each hook's rows to `visit`:
 * `rows` is [count, H] for absolute positions first..first+count−1. Returns the final cache.
 */
export async function scanActivations(
  session: DecoderSession,
  ids: readonly number[],
  hooks: readonly string[],
  visit: (hook: string, first: number, rows: Float32Array) => void,
  options: ScanOptions = {},
): Promise<KvCache> {
  const chunk = options.chunkTokens ?? DEFAULT_CHUNK_TOKENS;
  let cache = options.cache ?? session.emptyCache;
  for (let start = 0; start < ids.length; start += chunk) {
    throwIfCancelled(options.signal);
    const first = cache.length;
    const result = await session.forward({ ids: ids.slice(start, start + chunk), cache, capture: hooks, logits: 'none' });
    for (const hook of hooks) visit(hook, first, result.captures.get(hook)!);
    cache = result.cache;
  }
  return cache;
}

/** Per hook, the mean of its rows over the positions in [from, to) of `ids` (positions relative to `ids`). */
export async function meanActivations(
  session: DecoderSession,
  ids: readonly number[],
  hooks: readonly string[],
  from: number,
  to: number,
  options: ScanOptions = {},
): Promise<Float32Array[]> {
  if (!(from >= 0 && to > from && to <= ids.length)) throw new RangeError(`cannot average positions ${from}..${to} of ${ids.length} tokens`);
  const H = session.spec.hiddenSize;
  const base = options.cache?.length ?? 0;
  const sums = hooks.map(() => new Float64Array(H));
  const index = new Map(hooks.map((hook, i) => [hook, i]));
  await scanActivations(
    session,
    ids.slice(0, to),
    hooks,
    (hook, first, rows) => {
      const sum = sums[index.get(hook)!];
      const count = rows.length / H;
      for (let r = 0; r < count; r++) {
        if (first + r - base < from) continue;
        for (let i = 0; i < H; i++) sum[i] += rows[r * H + i];
      }
    },
    options,
  );
  return sums.map((sum) => Float32Array.from(sum, (x) => x / (to - from)));
}
