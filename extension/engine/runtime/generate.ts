// Token-by-token generation over a DecoderSession: prefill once, then one cached step per token,
// streamed as an async iterator and stoppable with an AbortSignal between any two steps.

import { CancelledError } from './progress';
import type { DecoderSession, ForwardResult, KvCache, Steering } from './decoder-session';
import { Sampler, type SamplingOptions } from './sampling';

/** What a per-token steering policy sees: the position being computed and the token fed there. */
export interface StepContext {
  position: number;
  inputToken: number;
  /** Tokens generated so far (prompt excluded). */
  generated: readonly number[];
}

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  /** Applied in the prefill and every step; or a policy choosing per generated step. */
  steering?: Steering | ((step: StepContext) => Steering | undefined);
  /** Steering for the prompt pass when `steering` is a policy. */
  promptSteering?: Steering;
  stopTokens?: readonly number[];
  /** Stops when the decoded text ends with one of these (needs `decode`). */
  stopStrings?: readonly string[];
  decode?: (ids: readonly number[]) => string;
  /** Start from a cache holding a prefix; `promptIds` are then the tokens after it. */
  cache?: KvCache;
  signal?: AbortSignal;
  /** Hooks captured at every step (one [1, H] row per generated position; [T, H] for the prompt). */
  capture?: readonly string[];
}

export interface GeneratedToken {
  id: number;
  /** Index among generated tokens. */
  index: number;
  /** Logits that chose this token. */
  logits: Float32Array;
  /** Captures of the forward that produced these logits. */
  captures: Map<string, Float32Array>;
  /** Why generation ended after this token, if it did. */
  stop?: 'token' | 'string' | 'length';
}

export async function* generate(session: DecoderSession, promptIds: readonly number[], options: GenerateOptions): AsyncGenerator<GeneratedToken> {
  const sampler = new Sampler(options);
  const policy = typeof options.steering === 'function' ? options.steering : undefined;
  const fixed = typeof options.steering === 'function' ? undefined : options.steering;
  const stopTokens = new Set(options.stopTokens ?? []);
  const generated: number[] = [];
  const check = () => {
    if (options.signal?.aborted) throw new CancelledError();
  };
  check();
  if (options.maxTokens <= 0) return;

  let result: ForwardResult = await session.forward({
    ids: promptIds,
    cache: options.cache,
    steering: fixed ?? options.promptSteering,
    capture: options.capture,
  });
  for (let index = 0; ; index++) {
    check();
    const id = sampler.next(result.logits);
    generated.push(id);
    let stop: GeneratedToken['stop'];
    if (stopTokens.has(id)) stop = 'token';
    else if (options.stopStrings?.length && options.decode) {
      const text = options.decode(generated);
      if (options.stopStrings.some((s) => text.endsWith(s))) stop = 'string';
    }
    if (!stop && generated.length >= options.maxTokens) stop = 'length';
    yield { id, index, logits: result.logits, captures: result.captures, stop };
    if (stop) return;
    check();
    const position = result.cache.length;
    const steering = policy ? policy({ position, inputToken: id, generated }) : fixed;
    result = await session.forward({ ids: [id], cache: result.cache, steering, capture: options.capture });
  }
}
