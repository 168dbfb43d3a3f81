// Runs the built graph with onnxruntime-node: forward passes over new tokens given a KV cache, with
// steering, hook capture and probe readouts. The KV cache is an immutable value (kv-cache.ts): a
// forward returns a new one and leaves its input untouched, so forking a prefix is sharing a reference.
// A session starts without steering blocks (they cost time on every forward, idle or not): the first
// run that steers or probes at a hook kind reopens it over the same weights with blocks at that kind.

import * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../common/model-spec';
import { hookName, parseHook, type HookKind } from '../../common/hooks';
import { gateRows, planSteering, STEERING_COLUMNS, type HookPlan, type Intervention, type ProbeRequest } from '../../common/steering-plan';
import {
  canonicalHook,
  GRAPH_STEERING_COLUMNS,
  graphColumns,
  STEERABLE_KINDS,
  steerableHooks,
  steeringKind,
  newKey,
  newValue,
  pastKey,
  pastValue,
  probeOutput,
  LENS_INPUTS,
  LENS_OUTPUT,
  ROPE_INPUTS,
  steeringInputs,
} from '../graph/graph-builder';
import { branchMask, branchPositions, continuation, ropeInverseFrequencies, ropeTables, type Branch } from './positions';
import { defaultMemoryBudget, logitRowsWithinBudget, rowsWithinBudget } from './memory-budget';
import { throwIfCancelled, type Progress } from './progress';
import { KvCache } from './kv-cache';

/** One hook's steering block inputs in the graph's column layout (graph-builder's `graphColumns`). */
interface CompiledHook {
  plan: HookPlan;
  w: ort.Tensor;
  u: ort.Tensor;
  /** The bias with its position gate when no column depends on the position; else built per call. */
  uniformBias: ort.Tensor | null;
}

/** Interventions and probes compiled for the graph's steering inputs; reusable across calls. */
export interface Steering {
  readonly hooks: ReadonlyMap<string, CompiledHook>;
  /** The hook kinds whose blocks the hooks need. */
  readonly kinds: readonly HookKind[];
}

export type LogitsSelection = 'last' | 'all' | 'none' | readonly number[];

export interface ForwardRequest {
  ids: ArrayLike<number>;
  cache?: KvCache;
  steering?: Steering;
  /** Hook names (TransformerLens form) whose post-edit values to return, [T, H] each. */
  capture?: readonly string[];
  /** Rows (indices into `ids`) whose logits to compute; default the last. */
  logits?: LogitsSelection;
  /** Reports tokens read so far (a long input runs in chunks) and stops between chunks when cancelled. */
  progress?: Progress;
}

/** Continuations packed in one forward over a cache (see `forwardBranches`). */
export interface BranchesRequest {
  ids: ArrayLike<number>;
  cache: KvCache;
  branches: readonly Branch[];
  /** Rows (indices into `ids`) whose logits to compute. */
  logits: readonly number[];
  steering?: Steering;
  /** Per branch, whether `steering` applies to it (default: to every branch). */
  steered?: readonly boolean[];
  lens?: LensRequest;
}

/** Logit-lens readout: at `rows` (indices into the new tokens), every layer's residual through the final norm and the output layer. */
export interface LensRequest {
  rows: readonly number[];
  /** Tokens whose log-probability to return at each row and layer. */
  tokens: readonly number[];
}

export interface ForwardResult {
  /** [rows, V], rows in the order requested. */
  logits: Float32Array;
  captures: Map<string, Float32Array>;
  /** Probe name → ⟨h, w⟩ per new position. */
  probes: Map<string, Float32Array>;
  cache: KvCache;
}

export interface SessionOptions {
  threads?: number;
  /** Bytes one forward's working tensors may take beyond the weights and caches (memory-budget.ts); default a share of free memory. */
  memoryBudget?: number;
}

/** The model file of the graph with steering blocks at these hook kinds, over the session's weights. */
export type GraphFile = (steeredKinds: readonly HookKind[]) => Promise<string>;

async function openOrtSession(path: string, threads: number | undefined): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads ?? 0,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
}

export class DecoderSession {
  private readonly inverseFrequencies: Float64Array;
  /** The sliding window of the model's local-attention layers; null when every layer attends globally. */
  private readonly localWindow: number | null;
  /** Fed at every steering block without a plan (zero W, b and U change nothing), by input name. */
  private idleFeeds: Record<string, ort.Tensor> = {};
  private kinds: readonly HookKind[] = [];
  /** Runs in progress on `session`, and the reopening that waits for them to end, if one is under way. */
  private running = 0;
  private drained: (() => void) | null = null;
  private reopening: Promise<void> | null = null;
  /** True during the run that looks for the layer where NaN or an infinity first appears. */
  private locatingNonFinite = false;
  readonly emptyCache: KvCache;
  private rope: { cos: ort.Tensor; sin: ort.Tensor } | null = null;

  private constructor(
    readonly spec: ModelSpec,
    private session: ort.InferenceSession,
    private readonly graphFile: GraphFile,
    private readonly threads: number | undefined,
    /** Bytes one forward's working tensors may take: long inputs run in chunks, TTS packs are sized by it. */
    readonly memoryBudget: number,
  ) {
    this.inverseFrequencies = ropeInverseFrequencies(spec);
    this.localWindow = spec.slidingWindows.find((w) => w !== null) ?? null;
    this.emptyCache = KvCache.empty(spec.numLayers, spec.numKvHeads, spec.headDim);
  }

  static async create(spec: ModelSpec, graphFile: GraphFile, options: SessionOptions = {}): Promise<DecoderSession> {
    const session = await openOrtSession(await graphFile([]), options.threads);
    return new DecoderSession(spec, session, graphFile, options.threads, options.memoryBudget ?? defaultMemoryBudget());
  }

  /** The hook kinds the session has steering blocks at. */
  get steeredKinds(): readonly HookKind[] {
    return this.kinds;
  }

  private setKinds(kinds: readonly HookKind[]): void {
    const H = this.spec.hiddenSize;
    const C = GRAPH_STEERING_COLUMNS;
    const idle = {
      w: new ort.Tensor('float32', new Float32Array(H * C), [H, C]),
      b: new ort.Tensor('float32', new Float32Array(C), [1, C]),
      u: new ort.Tensor('float32', new Float32Array(C * H), [C, H]),
    };
    this.idleFeeds = {};
    for (const hook of steerableHooks(this.spec.numLayers, kinds)) {
      const names = steeringInputs(hook);
      Object.assign(this.idleFeeds, { [names.w]: idle.w, [names.b]: idle.b, [names.u]: idle.u });
    }
    this.kinds = kinds;
  }

  /**
   * Adds steering blocks at `kinds` (every layer's hook of each kind): the session is reopened over the
   * same weights once the runs in progress end; runs that start meanwhile wait for it. Every run calls
   * this; a caller streaming a reply calls it first too, so that the reopen (about as long as opening the
   * model again) is reported rather than a silent pause before the first token.
   */
  async prepareSteering(kinds: readonly HookKind[], progress?: Progress): Promise<void> {
    for (;;) {
      if (this.reopening) {
        // Another run's reopening: its failure is that run's to report; this one tries again if it still needs blocks.
        await this.reopening.catch(() => undefined);
        continue;
      }
      const missing = kinds.filter((kind) => !this.kinds.includes(kind));
      if (missing.length === 0) return;
      const reopening = this.reopen(STEERABLE_KINDS.filter((kind) => this.kinds.includes(kind) || missing.includes(kind)), missing, progress).finally(() => {
        this.reopening = null;
      });
      this.reopening = reopening;
      await reopening;
    }
  }

  private async reopen(kinds: readonly HookKind[], missing: readonly HookKind[], progress?: Progress): Promise<void> {
    if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    progress?.report?.({ message: `adding steering blocks at every layer's ${missing.join(' and ')} (once per loaded model)`, done: 0, total: 1 });
    const path = await this.graphFile(kinds);
    // The old session goes first: two at once would hold the weights twice.
    await this.session.release();
    try {
      this.session = await openOrtSession(path, this.threads);
    } catch (error) {
      this.session = await openOrtSession(await this.graphFile(this.kinds), this.threads);
      throw error;
    }
    this.setKinds(kinds);
  }

  /** The session for a run needing blocks at `kinds`, counted as running until `done` is called. */
  private async acquire(kinds: readonly HookKind[], progress?: Progress): Promise<ort.InferenceSession> {
    do await this.prepareSteering(kinds, progress);
    while (this.reopening);
    this.running++;
    return this.session;
  }

  private done(): void {
    if (--this.running === 0 && this.drained) {
      this.drained();
      this.drained = null;
    }
  }

  /** New tokens one forward over `keys` keys (cache and new tokens) may take within the memory budget. */
  rowsWithinBudget(keys: number): number {
    return rowsWithinBudget(this.spec, keys, this.memoryBudget);
  }

  /** Rows of logits one forward may return within the memory budget (a row is the whole vocabulary). */
  logitRowsWithinBudget(): number {
    return logitRowsWithinBudget(this.spec, this.memoryBudget);
  }

  async release(): Promise<void> {
    while (this.reopening) await this.reopening.catch(() => undefined);
    await this.session.release();
  }

  /** Compiles interventions and probes once; the result can drive any number of forward calls. */
  compileSteering(interventions: readonly Intervention[], probes: readonly (ProbeRequest & { name: string })[] = []): Steering {
    for (const item of [...interventions, ...probes]) {
      parseHook(item.hook, this.spec.numLayers);
      if (steeringKind(item.hook) === null) throw new Error(`${item.hook} has no steering block: steer or probe at blocks.{layer}.{${STEERABLE_KINDS.join('|')}} or blocks.{layer}.hook_resid_pre`);
    }
    const plans = planSteering(interventions, probes, this.spec.hiddenSize, canonicalHook);
    const hooks = new Map([...plans].map(([hook, plan]) => [hook, this.compileHook(plan)]));
    const kinds = STEERABLE_KINDS.filter((kind) => [...hooks.keys()].some((hook) => steeringKind(hook) === kind));
    return { hooks, kinds };
  }

  /** A plan's [H, C] / [C, H] columns spread over the graph's columns: a linear one as (w, u) and (−w, −u). */
  private compileHook(plan: HookPlan): CompiledHook {
    const H = this.spec.hiddenSize;
    const C = GRAPH_STEERING_COLUMNS;
    const w = new Float32Array(H * C);
    const u = new Float32Array(C * H);
    for (let j = 0; j < STEERING_COLUMNS; j++) {
      graphColumns(j).forEach((column, half) => {
        const sign = half === 0 ? 1 : -1;
        for (let i = 0; i < H; i++) {
          w[i * C + column] = sign * plan.w[i * STEERING_COLUMNS + j];
          u[column * H + i] = sign * plan.u[j * H + i];
        }
      });
    }
    const uniform = plan.positions.every((p) => p === null || p === 'all');
    return {
      plan,
      w: new ort.Tensor('float32', w, [H, C]),
      u: new ort.Tensor('float32', u, [C, H]),
      uniformBias: uniform ? gatedBias(plan, [0]) : null,
    };
  }

  /**
   * The new tokens after the cache, in chunks of rows that keep the attention of each run within the
   * memory budget (never a full T×T score matrix): each chunk continues the cache the previous one
   * returned, so the result equals a single run's.
   */
  async forward(request: ForwardRequest): Promise<ForwardResult> {
    let cache = request.cache ?? this.emptyCache;
    const count = request.ids.length;
    const rows = this.logitRows(request.logits ?? 'last', count);
    const chunk = this.rowsWithinBudget(cache.length + count);
    if (count <= chunk) {
      const result = await this.run(request, cache, [continuation(cache.length, count)], rows, true, count);
      request.progress?.report?.({ message: 'reading the tokens', done: count, total: count });
      await this.requireFinite(request, result.logits);
      return { ...result, cache: result.cache! };
    }
    const vocab = this.spec.vocabSize;
    const logitsOf = new Map<number, Float32Array>();
    const captures = new Map<string, Float32Array[]>();
    const probes = new Map<string, Float32Array[]>();
    const append = (into: Map<string, Float32Array[]>, from: Map<string, Float32Array>) => {
      for (const [name, data] of from) {
        const parts = into.get(name);
        if (parts) parts.push(data);
        else into.set(name, [data]);
      }
    };
    const ids = Array.from(request.ids);
    for (let start = 0; start < count; start += chunk) {
      throwIfCancelled(request.progress?.signal);
      const end = Math.min(count, start + chunk);
      const local = [...new Set(rows.filter((r) => r >= start && r < end))];
      const part = await this.run({ ...request, ids: ids.slice(start, end) }, cache, [continuation(cache.length, end - start)], local.map((r) => r - start), true, count - start);
      local.forEach((r, n) => logitsOf.set(r, part.logits.slice(n * vocab, (n + 1) * vocab)));
      append(captures, part.captures);
      append(probes, part.probes);
      cache = part.cache!;
      request.progress?.report?.({ message: 'reading the tokens', done: end, total: count });
    }
    const logits = new Float32Array(rows.length * vocab);
    rows.forEach((r, n) => logits.set(logitsOf.get(r)!, n * vocab));
    const joined = (parts: Map<string, Float32Array[]>) => new Map([...parts].map(([name, list]) => [name, concatFloats(list)]));
    await this.requireFinite(request, logits);
    return { logits, captures: joined(captures), probes: joined(probes), cache };
  }

  /**
   * Refuses logits holding NaN or an infinity (every score made from them would be meaningless),
   * naming the first layer whose output holds one, found by running the same input again capturing
   * every layer. Weights are checked when the graph is built, so this is an overflow in the computation.
   */
  private async requireFinite(request: ForwardRequest, logits: Float32Array): Promise<void> {
    if (this.locatingNonFinite || firstNonFinite(logits) < 0) return;
    this.locatingNonFinite = true;
    let where = 'after the last layer (in the final norm or the output layer)';
    try {
      const layers = Array.from({ length: this.spec.numLayers }, (_, layer) => hookName({ layer, kind: 'hook_resid_post' }));
      const { captures } = await this.forward({ ...request, capture: layers, logits: 'last' });
      for (const [layer, name] of layers.entries()) {
        const index = firstNonFinite(captures.get(name)!);
        if (index >= 0) {
          where = `at the output of layer ${layer}, token ${Math.floor(index / this.spec.hiddenSize)} of this input`;
          break;
        }
      }
    } finally {
      this.locatingNonFinite = false;
    }
    throw new Error(`the model's activations hold NaN or an infinite value, first ${where}${request.steering ? ' (with steering applied: a smaller strength may avoid it)' : ''}; no score is computed from them.`);
  }

  /**
   * Several independent continuations of one cache in a single run (one read of the weights for all):
   * `ids` holds each branch's tokens in turn, and every token sees only its branch's context ranges of
   * the cache and its branch's earlier tokens. `logits` rows index `ids`. No cache is returned.
   */
  async forwardBranches(request: BranchesRequest): Promise<Float32Array> {
    return (await this.lensBranches(request)).logits;
  }

  /**
   * `forwardBranches` that also returns the logit lens of `request.lens`: [layers · rows, tokens + 1],
   * row l·M + m for layer l and lens row m: log p of each requested token, then the top token's log p.
   */
  async lensBranches(request: BranchesRequest): Promise<{ logits: Float32Array; lens: Float32Array | null }> {
    const { logits, lens } = await this.run(request, request.cache, this.checkBranches(request), this.logitRows(request.logits, request.ids.length), false, 0);
    return { logits, lens };
  }

  /**
   * As `forwardBranches`, and returns the cache with the new tokens' slots after the given cache's, in
   * `ids` order: how several replies decode together, each branch continuing its own slots.
   */
  async extendBranches(request: BranchesRequest): Promise<{ logits: Float32Array; cache: KvCache }> {
    const result = await this.run(request, request.cache, this.checkBranches(request), this.logitRows(request.logits, request.ids.length), true, request.ids.length);
    return { logits: result.logits, cache: result.cache! };
  }

  private checkBranches(request: BranchesRequest): readonly Branch[] {
    const total = request.branches.reduce((n, b) => n + b.length, 0);
    if (total !== request.ids.length) throw new Error(`the branches hold ${total} tokens; ${request.ids.length} were given`);
    if (request.steered && request.steered.length !== request.branches.length) throw new Error(`${request.steered.length} steered flags for ${request.branches.length} branches`);
    for (const branch of request.branches) {
      for (const range of branch.context) {
        if (range.start < 0 || range.end > request.cache.length || range.start > range.end) throw new Error(`context range ${range.start}..${range.end} is outside the cache of ${request.cache.length} positions`);
      }
    }
    return request.branches;
  }

  private async run(
    request: RunRequest,
    cache: KvCache,
    branches: readonly Branch[],
    logitRows: number[],
    keepCache: boolean,
    /** Positions the cache is about to gain (this run's and later chunks'): room kept if it has to be copied. */
    room: number,
  ): Promise<RunResult> {
    const { spec } = this;
    const ids = Array.from(request.ids);
    const count = ids.length;
    if (count === 0) throw new Error('forward needs at least one token');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize) throw new Error(`token id ${id} is outside the vocabulary (0..${spec.vocabSize - 1})`);
    }
    const past = cache.length;
    const group = spec.numHeads / spec.numKvHeads;
    const keys = past + count;
    const positions = branchPositions(branches);
    const furthest = positions.reduce((m, p) => Math.max(m, p), 0) + 1;
    if (furthest > spec.maxPositions) throw new Error(`sequence of ${furthest} tokens exceeds the model's ${spec.maxPositions} positions`);

    const rope = this.ropeCache(furthest);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [count]),
      [ROPE_INPUTS.cos]: rope.cos,
      [ROPE_INPUTS.sin]: rope.sin,
      [ROPE_INPUTS.queryPositions]: headPositions(positions, spec.numHeads),
      attn_mask: new ort.Tensor('float32', branchMask(past, branches, group, null), [group * count, keys]),
      logits_index: new ort.Tensor('int64', BigInt64Array.from(logitRows, BigInt), [logitRows.length]),
      [LENS_INPUTS.rows]: int64Tensor(this.lensRows(request.lens, count)),
      [LENS_INPUTS.tokens]: int64Tensor(this.lensTokens(request.lens)),
    };
    if (spec.numKvHeads !== spec.numHeads) feeds[ROPE_INPUTS.keyPositions] = headPositions(positions, spec.numKvHeads);
    if (this.localWindow !== null) feeds.attn_mask_local = new ort.Tensor('float32', branchMask(past, branches, group, this.localWindow), [group * count, keys]);
    const pastTensors = cache.tensors(room);
    for (let l = 0; l < spec.numLayers; l++) {
      feeds[pastKey(l)] = pastTensors.keys[l];
      feeds[pastValue(l)] = pastTensors.values[l];
    }
    const steering = request.steering;
    // Steering for some branches only: a bias per token, −∞ (off) on the tokens of the others.
    const steeredTokens = request.steered?.includes(false) ? branches.flatMap((b, i) => Array<boolean>(b.length).fill(request.steered![i])) : undefined;
    for (const [hook, compiled] of steering?.hooks ?? []) {
      const names = steeringInputs(hook);
      Object.assign(feeds, { [names.w]: compiled.w, [names.u]: compiled.u });
      feeds[names.b] = !compiled.uniformBias || steeredTokens ? gatedBias(compiled.plan, positions, steeredTokens) : compiled.uniformBias;
    }

    const captureNames = (request.capture ?? []).map((name) => {
      parseHook(name, spec.numLayers);
      return { name, output: canonicalHook(name) };
    });
    const probeHooks = steering ? [...steering.hooks.values()].map((h) => h.plan).filter((p) => p.probes.size > 0) : [];
    // Outputs land in onnxruntime's memory and are copied out: the Node binding copies every output into a
    // new buffer even when one is given to write into, so giving one would only add a copy.
    const fetches = [
      'logits',
      ...(keepCache ? Array.from({ length: spec.numLayers }, (_, l) => [newKey(l), newValue(l)]).flat() : []),
      ...new Set(captureNames.map((c) => c.output)),
      ...probeHooks.map((p) => probeOutput(p.hook)),
      ...(request.lens ? [LENS_OUTPUT] : []),
    ];
    const session = await this.acquire(steering?.kinds ?? [], request.progress);
    let outputs: ort.InferenceSession.ReturnType;
    try {
      // The blocks without a plan are those of the session as acquired: the steered hooks' feeds stay.
      outputs = await session.run({ ...this.idleFeeds, ...feeds }, fetches);
    } finally {
      this.done();
    }

    const captures = new Map(captureNames.map((c) => [c.name, outputs[c.output].data as Float32Array]));
    const probes = new Map<string, Float32Array>();
    for (const plan of probeHooks) {
      const readout = outputs[probeOutput(plan.hook)].data as Float32Array;
      const C = GRAPH_STEERING_COLUMNS;
      for (const [name, column] of plan.probes) {
        // A probe is a linear column: relu(z) − relu(−z) = z, exactly (one of the two is zero).
        const [positive, negative] = graphColumns(column);
        probes.set(name, Float32Array.from({ length: count }, (_, t) => readout[t * C + positive] - readout[t * C + negative]));
      }
    }
    return {
      logits: outputs.logits.data as Float32Array,
      captures,
      probes,
      lens: request.lens ? (outputs[LENS_OUTPUT].data as Float32Array) : null,
      cache: keepCache
        ? cache.extend({
            count,
            keys: Array.from({ length: spec.numLayers }, (_, l) => outputs[newKey(l)].data as Float32Array),
            values: Array.from({ length: spec.numLayers }, (_, l) => outputs[newValue(l)].data as Float32Array),
          })
        : null,
    };
  }

  /** RoPE tables [R, d/2] for positions 0..R−1 with R ≥ `positions`, grown by doubling and kept. */
  private ropeCache(positions: number): { cos: ort.Tensor; sin: ort.Tensor } {
    if (!this.rope || this.rope.cos.dims[0] < positions) {
      const rows = Math.min(this.spec.maxPositions, Math.max(256, 2 ** Math.ceil(Math.log2(positions))));
      const { cos, sin } = ropeTables(this.inverseFrequencies, rows);
      const dims = [rows, this.spec.headDim / 2];
      this.rope = { cos: new ort.Tensor('float32', cos, dims), sin: new ort.Tensor('float32', sin, dims) };
    }
    return this.rope;
  }

  private lensRows(lens: LensRequest | undefined, count: number): readonly number[] {
    for (const row of lens?.rows ?? []) if (!Number.isInteger(row) || row < 0 || row >= count) throw new Error(`lens row ${row} is outside 0..${count - 1}`);
    return lens?.rows ?? [];
  }

  private lensTokens(lens: LensRequest | undefined): readonly number[] {
    for (const token of lens?.tokens ?? []) if (!Number.isInteger(token) || token < 0 || token >= this.spec.vocabSize) throw new Error(`lens token ${token} is outside the vocabulary (0..${this.spec.vocabSize - 1})`);
    return lens?.tokens ?? [];
  }

  private logitRows(selection: LogitsSelection, count: number): number[] {
    if (selection === 'last') return [count - 1];
    if (selection === 'all') return Array.from({ length: count }, (_, i) => i);
    if (selection === 'none') return [];
    for (const row of selection) {
      if (!Number.isInteger(row) || row < 0 || row >= count) throw new Error(`logits row ${row} is outside 0..${count - 1}`);
    }
    return [...selection];
  }
}

type RunRequest = { ids: ArrayLike<number>; steering?: Steering; steered?: readonly boolean[]; capture?: readonly string[]; lens?: LensRequest; progress?: Progress };
type RunResult = Omit<ForwardResult, 'cache'> & { cache: KvCache | null; lens: Float32Array | null };

/**
 * The bias of a steering block for the new tokens' positions in the graph's columns: [1, C] when
 * no column depends on the position and every token is steered, else [count, C]. A column gated off at a
 * position gets −∞, which its relu turns into 0; columns without positions (probes, unused ones) are
 * gated off only on tokens that `steeredTokens` leaves unsteered.
 */
function gatedBias(plan: HookPlan, positions: readonly number[], steeredTokens?: readonly boolean[]): ort.Tensor {
  const C = GRAPH_STEERING_COLUMNS;
  const gate = gateRows(plan, positions);
  const rows = steeredTokens ? positions.length : gate.rows;
  const data = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    const g = gate.rows === 1 ? 0 : r;
    for (let j = 0; j < STEERING_COLUMNS; j++) {
      const on = steeredTokens?.[r] !== false && (plan.positions[j] === null || gate.data[g * STEERING_COLUMNS + j] === 1);
      graphColumns(j).forEach((column, half) => {
        data[r * C + column] = on ? (half === 0 ? plan.b[j] : -plan.b[j]) : -Infinity;
      });
    }
  }
  return new ort.Tensor('float32', data, [rows, C]);
}

/** Index of the first NaN or infinity, or −1. Every forward checks its logits: a plain loop, several times faster than `every`. */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

function concatFloats(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function int64Tensor(values: readonly number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [values.length]);
}

/** Each new token's position, repeated for each of `heads` heads: [count, heads]. */
function headPositions(positions: readonly number[], heads: number): ort.Tensor {
  const data = new BigInt64Array(positions.length * heads);
  positions.forEach((p, t) => data.fill(BigInt(p), t * heads, (t + 1) * heads));
  return new ort.Tensor('int64', data, [positions.length, heads]);
}
