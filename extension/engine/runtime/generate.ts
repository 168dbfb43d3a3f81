// Token-by-token generation over a DecoderSession: prefill once, then one cached step per token,
// streamed as an async iterator and stoppable with an AbortSignal between any two steps.

import { CancelledError } from './progress';
import type { DecoderSession, ForwardResult, Steering } from './decoder-session';
import type { KvCache } from './kv-cache';
import type { ContextRange } from './positions';
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

/** Why generation ends after the last of `generated`, if it does. */
function stopReason(generated: readonly number[], stopTokens: ReadonlySet<number>, options: GenerateOptions): GeneratedToken['stop'] {
  const id = generated[generated.length - 1];
  if (stopTokens.has(id)) return 'token';
  if (options.stopStrings?.length && options.decode) {
    const text = options.decode(generated);
    if (options.stopStrings.some((s) => text.endsWith(s))) return 'string';
  }
  return generated.length >= options.maxTokens ? 'length' : undefined;
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
    const stop = stopReason(generated, stopTokens, options);
    yield { id, index, logits: result.logits, captures: result.captures, stop };
    if (stop) return;
    check();
    const position = result.cache.length;
    const steering = policy ? policy({ position, inputToken: id, generated }) : fixed;
    result = await session.forward({ ids: [id], cache: result.cache, steering, capture: options.capture });
  }
}

/** One reply of a batch: its own steering (a compiled steering or a per-step policy) and sampler seed. */
export interface BatchReply {
  steering?: Steering | ((step: StepContext) => Steering | undefined);
  /** Steering for this reply's prompt pass when `steering` is a policy. */
  promptSteering?: Steering;
  seed?: number;
}

export type BatchOptions = Omit<GenerateOptions, 'steering' | 'promptSteering' | 'cache' | 'capture' | 'seed'>;

/**
 * Several replies to one prompt decoded together, one token of each per forward: the weights are read
 * once per step for all of them (a baseline and a steered reply cost little more than one). Replies
 * whose prompt passes are steered alike share one prompt pass. At any step the replies may use one
 * steering at most (besides none), as the graph's steering inputs are shared by the batch; each token
 * of a reply sees its own prompt pass and its own earlier tokens. Yields each reply's tokens in turn.
 */
export async function* generateBatch(session: DecoderSession, promptIds: readonly number[], replies: readonly BatchReply[], options: BatchOptions): AsyncGenerator<{ reply: number; token: GeneratedToken }> {
  const check = () => {
    if (options.signal?.aborted) throw new CancelledError();
  };
  check();
  if (options.maxTokens <= 0 || replies.length === 0) return;
  if (promptIds.length === 0) throw new Error('forward needs at least one token');
  const stopTokens = new Set(options.stopTokens ?? []);
  const states = replies.map((reply) => ({
    sampler: new Sampler({ ...options, seed: reply.seed }),
    policy: typeof reply.steering === 'function' ? reply.steering : undefined,
    fixed: typeof reply.steering === 'function' ? undefined : reply.steering,
    promptSteering: typeof reply.steering === 'function' ? reply.promptSteering : reply.steering,
    generated: [] as number[],
    /** Cache slots this reply sees, with the position of each run's first. */
    context: [] as ContextRange[],
    done: false,
  }));

  // Prompt passes: one per distinct prompt steering, packed side by side in one forward.
  const passes = [...new Set(states.map((s) => s.promptSteering))];
  const P = promptIds.length;
  states.forEach((s) => {
    const pass = passes.indexOf(s.promptSteering);
    s.context.push({ start: pass * P, end: (pass + 1) * P, position: 0 });
  });
  let { logits, cache } = await packedStep(
    session,
    session.emptyCache,
    passes.map((steering) => ({ ids: promptIds, steering, context: [] as ContextRange[], position: 0 })),
  );
  const rowLogits = states.map((s) => logits[passes.indexOf(s.promptSteering)]);

  while (true) {
    check();
    const active: { state: (typeof states)[number]; id: number }[] = [];
    for (const [reply, state] of states.entries()) {
      if (state.done) continue;
      const id = state.sampler.next(rowLogits[reply]);
      state.generated.push(id);
      const stop = stopReason(state.generated, stopTokens, options);
      state.done = stop !== undefined;
      yield { reply, token: { id, index: state.generated.length - 1, logits: rowLogits[reply], captures: new Map(), stop } };
      if (!stop) active.push({ state, id });
    }
    if (active.length === 0) return;
    check();
    const rows = active.map(({ state, id }) => {
      const position = P + state.generated.length - 1;
      const steering = state.policy ? state.policy({ position, inputToken: id, generated: state.generated }) : state.fixed;
      return { ids: [id], steering, context: state.context, position };
    });
    const start = cache.length;
    ({ logits, cache } = await packedStep(session, cache, rows));
    active.forEach(({ state }, i) => {
      state.context.push({ start: start + i, end: start + i + 1, position: rows[i].position });
      rowLogits[states.indexOf(state)] = logits[i];
    });
  }
}

/** One forward of packed rows over `cache`, each row steered its own way; the logits of each row's last token. */
async function packedStep(
  session: DecoderSession,
  cache: KvCache,
  rows: readonly { ids: readonly number[]; steering: Steering | undefined; context: readonly ContextRange[]; position: number }[],
): Promise<{ logits: Float32Array[]; cache: KvCache }> {
  const steerings = [...new Set(rows.map((r) => r.steering).filter((s) => s !== undefined))];
  if (steerings.length > 1) throw new Error('replies decoded together can use one steering at a time besides none');
  const last: number[] = [];
  let count = 0;
  for (const row of rows) {
    count += row.ids.length;
    last.push(count - 1);
  }
  const result = await session.extendBranches({
    ids: rows.flatMap((r) => r.ids),
    cache,
    branches: rows.map((r) => ({ length: r.ids.length, position: r.position, context: r.context })),
    logits: last,
    steering: steerings[0],
    steered: rows.map((r) => r.steering !== undefined),
  });
  const V = session.spec.vocabSize;
  return { logits: last.map((_, i) => result.logits.subarray(i * V, (i + 1) * V)), cache: result.cache };
}
