// Emits the steerable decoder graph for a ModelSpec. The graph works on one row of new tokens (branches
// packed into it are kept apart by the attention mask it is fed), with activations as 2-D [T, H]
// tensors (so every projection is one Gemm over the weights as Hugging Face stores them, or one
// MatMulNBits over their int4 blocks), a KV cache passed in and returned per layer, and at the hook
// points of the kinds a session steers a steering block driven by graph inputs (zeros make it a no-op).
// See architecture.md, "One intervention form covers every method".

import type { ModelSpec } from '../../common/model-spec';
import { FINAL_NORM_HOOK, hookName, type HookKind } from '../../common/hooks';
import { DataType, type Dim, type GraphDef, type NodeDef, type TensorDef, type ValueInfo, type AttributeValue } from './onnx-proto';
import { LINEAR_COLUMNS, RELU_COLUMNS } from '../../common/steering-plan';
import { BLOCK_SIZE, type WeightBits } from './quantize-blocks';
import type { Precision } from '../../common/precision';

/** A weight of the built graph: HF tensors concatenated along their first axis, optionally transformed. */
export interface WeightPlan {
  name: string;
  /** Shape as stored (for quantized weights, the float [N, K] the codes were quantized from). */
  dims: number[];
  sources: string[];
  /** gemma's RMSNorm gain is (1 + w): stored already added, rounded to float32 as transformers computes it. */
  addOne: boolean;
  /** Stored transposed, [K, N] for an HF [N, K]: a one-row MatMul then streams it without repacking. */
  transpose?: boolean;
  /** Stored block-quantized with this many bits: codes under `name`, scales under `scalesName(name)`. */
  bits?: WeightBits;
  /** Stored as the checkpoint stores it, in 16 bits (the embedding's rows are widened as they are gathered). */
  stored16?: Float16Dtype;
}

export type Float16Dtype = 'F16' | 'BF16';

/** Bits per weight of the projections and the output layer in each quantized precision. */
export const PRECISION_BITS: Record<Exclude<Precision, 'fp32'>, WeightBits> = { int8: 8, int4: 4 };

export type { Precision };

/** What decides a graph's weights: every graph of a checkpoint with the same options reads the same weights file. */
export interface WeightOptions {
  /** Weights of the projections and the output layer: float32, or 8- or 4-bit blocks for MatMulNBits. */
  precision: Precision;
  /**
   * The checkpoint's embedding type: a 16-bit embedding is kept as stored (half the memory of float32,
   * and exact, since widening is), which is also what lets a tensor over 2 GiB in float32 stay under it.
   */
  embeddingDtype?: 'F32' | Float16Dtype;
}

export interface BuildOptions extends WeightOptions {
  /**
   * The hook kinds with a steering block at every layer (`STEERABLE_KINDS`). Blocks cost time on every
   * forward even when idle, so a session carries only the kinds it has steered or probed at.
   */
  steeredKinds: readonly HookKind[];
}

export const DEFAULT_BUILD_OPTIONS: BuildOptions = { precision: 'fp32', steeredKinds: [] };

export const scalesName = (weight: string) => `${weight}.scales`;

export interface BuiltGraph {
  graph: GraphDef;
  weights: WeightPlan[];
}

/** Hook points whose value is the same tensor as another's (TransformerLens keeps both names). */
export function canonicalHook(name: string): string {
  const match = /^blocks\.(\d+)\.hook_resid_pre$/.exec(name);
  if (match && Number(match[1]) > 0) return `blocks.${Number(match[1]) - 1}.hook_resid_post`;
  return name;
}

/**
 * The hook kinds that can carry a steering block, in a layer's graph order. hook_resid_post stands for
 * the residual stream: its blocks include blocks.0.hook_resid_pre (every later hook_resid_pre is the
 * previous layer's hook_resid_post).
 */
export const STEERABLE_KINDS: readonly HookKind[] = ['ln1.hook_normalized', 'hook_resid_mid', 'ln2.hook_normalized', 'hook_resid_post'];

/** The kind whose blocks steer a hook (its canonical name's kind), or null for a hook without blocks (ln_final). */
export function steeringKind(hook: string): HookKind | null {
  const name = canonicalHook(hook);
  if (name === 'blocks.0.hook_resid_pre') return 'hook_resid_post';
  const kind = /^blocks\.\d+\.(.+)$/.exec(name)?.[1] as HookKind | undefined;
  return kind && STEERABLE_KINDS.includes(kind) ? kind : null;
}

/** The hook points with a steering block when blocks are at `kinds` (default every steerable kind), in graph order. */
export function steerableHooks(numLayers: number, kinds: readonly HookKind[] = STEERABLE_KINDS): string[] {
  const perLayer = STEERABLE_KINDS.filter((kind) => kinds.includes(kind));
  const layers = Array.from({ length: numLayers }, (_, l) => perLayer.map((kind) => hookName({ layer: l, kind }))).flat();
  return kinds.includes('hook_resid_post') ? ['blocks.0.hook_resid_pre', ...layers] : layers;
}

/**
 * Columns of a steering block in the graph: every plan column is relu-shaped there, a linear column
 * of the plan becoming two (f(z) = relu(z) − relu(−z)), so that the block is two fused kernels and a
 * position gate is a bias of −∞ (relu then yields 0). See `graphColumn`.
 */
export const GRAPH_STEERING_COLUMNS = 2 * LINEAR_COLUMNS + RELU_COLUMNS;

/** The graph columns of a plan column: [positive, negative half] for a linear one, [itself] for a relu one. */
export function graphColumns(planColumn: number): number[] {
  return planColumn < LINEAR_COLUMNS ? [2 * planColumn, 2 * planColumn + 1] : [LINEAR_COLUMNS + planColumn];
}

export const steeringInputs = (hook: string) => ({
  w: `steer.${hook}.w`,
  b: `steer.${hook}.b`,
  u: `steer.${hook}.u`,
});
export const ROPE_INPUTS = { cos: 'rope_cos_cache', sin: 'rope_sin_cache', queryPositions: 'rope_positions_q', keyPositions: 'rope_positions_k' };
export const probeOutput = (hook: string) => `probe.${hook}`;
/** Logit-lens inputs: rows of the new tokens to read at every layer, and the tokens whose log p to return. */
export const LENS_INPUTS = { rows: 'lens_index', tokens: 'lens_tokens' };
export const LENS_OUTPUT = 'lens_logprobs';
export const pastKey = (l: number) => `past_key.${l}`;
export const pastValue = (l: number) => `past_value.${l}`;
/** The new tokens' keys and values of layer l, [T, nKV, d]: what the cache gains. */
export const newKey = (l: number) => `new_key.${l}`;
export const newValue = (l: number) => `new_value.${l}`;

class Builder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly weights: WeightPlan[] = [];
  private readonly constants = new Map<string, string>();
  private readonly nodeNames = new Set<string>();
  private scope = '';

  inScope<T>(scope: string, build: () => T): T {
    const outer = this.scope;
    this.scope = scope;
    try {
      return build();
    } finally {
      this.scope = outer;
    }
  }

  op(opType: string, inputs: string[], attributes?: Record<string, AttributeValue>, opts: { outputs?: number; name?: string; domain?: string; outputNames?: string[] } = {}): string[] {
    const base = `/${this.scope}/${opts.name ?? opType}`;
    let name = base;
    for (let i = 1; this.nodeNames.has(name); i++) name = `${base}_${i}`;
    this.nodeNames.add(name);
    const outputs = opts.outputNames ?? Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}/output_${i}`);
    this.nodes.push({ opType, inputs, outputs, name, attributes, domain: opts.domain });
    return outputs;
  }

  op1(opType: string, inputs: string[], attributes?: Record<string, AttributeValue>, opts: { name?: string; domain?: string; outputName?: string } = {}): string {
    return this.op(opType, inputs, attributes, { ...opts, outputNames: opts.outputName ? [opts.outputName] : undefined })[0];
  }

  /** A constant, deduplicated by value. */
  constant(elemType: DataType.FLOAT | DataType.INT64, dims: number[], values: number[]): string {
    const key = `${elemType}|${dims}|${values}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = `const_${this.constants.size}`;
    this.constants.set(key, name);
    this.initializers.push({ name, elemType, dims, raw: encodeValues(elemType, values) });
    return name;
  }

  ints(values: number[]): string {
    return this.constant(DataType.INT64, [values.length], values);
  }

  scalar(value: number): string {
    return this.constant(DataType.FLOAT, [], [value]);
  }

  weight(name: string, dims: number[], sources: string[], addOne = false): string {
    this.addWeight({ name, dims, sources, addOne });
    return name;
  }

  /** Adds a weight plan once: a weight read by two nodes (the output layer and the logit lens) is stored once. */
  addWeight(plan: WeightPlan): void {
    if (!this.weights.some((w) => w.name === plan.name)) this.weights.push(plan);
  }

  input(name: string, elemType: DataType, shape: Dim[]): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /**
   * Makes a freshly computed tensor a graph output under `name` by renaming it at its producer (no
   * copy); it must not be consumed yet.
   */
  output(tensor: string, name: string, shape: Dim[]): string {
    const producer = this.nodes.find((n) => n.outputs.includes(tensor));
    if (!producer || this.nodes.some((n) => n.inputs.includes(tensor))) throw new Error(`graph output ${name}: ${tensor} is not a fresh, unconsumed node output`);
    producer.outputs = producer.outputs.map((o) => (o === tensor ? name : o));
    this.outputs.push({ name, elemType: DataType.FLOAT, shape });
    return name;
  }
}

function encodeValues(elemType: DataType, values: number[]): Uint8Array {
  if (elemType === DataType.INT64) return new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function buildDecoderGraph(spec: ModelSpec, options: BuildOptions = DEFAULT_BUILD_OPTIONS): BuiltGraph {
  const b = new Builder();
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKV, headDim: d, intermediateSize: F, vocabSize: V } = spec;
  const C = GRAPH_STEERING_COLUMNS;

  const inputIds = b.input('input_ids', DataType.INT64, ['T']);
  // RoPE tables [positions held, d/2] indexed by absolute position, and each head's position per token.
  const cos = b.input(ROPE_INPUTS.cos, DataType.FLOAT, ['R', d / 2]);
  const sin = b.input(ROPE_INPUTS.sin, DataType.FLOAT, ['R', d / 2]);
  const queryPositions = b.input(ROPE_INPUTS.queryPositions, DataType.INT64, ['T', nH]);
  const keyPositions = nKV === nH ? queryPositions : b.input(ROPE_INPUTS.keyPositions, DataType.INT64, ['T', nKV]);
  const mask = b.input('attn_mask', DataType.FLOAT, ['GT', 'S']);
  const localMask = spec.slidingWindows.some((w) => w !== null) ? b.input('attn_mask_local', DataType.FLOAT, ['GT', 'S']) : null;
  const logitsIndex = b.input('logits_index', DataType.INT64, ['N']);
  const lensIndex = b.input(LENS_INPUTS.rows, DataType.INT64, ['M']);
  const lensTokens = b.input(LENS_INPUTS.tokens, DataType.INT64, ['K']);

  const rmsNorm = (x: string, weight: string, eps = spec.rmsNormEps) =>
    b.op1('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: eps }, stash_type: 1 }, { name: 'RMSNorm' });
  const normWeight = (hf: string, size: number) => b.weight(hf, [size], [hf], spec.normAddsOne);

  /**
   * x [T, K] times the HF weight [N, K] transposed, plus an optional bias: one MatMul over the weight
   * stored as [K, N] in fp32 (onnxruntime fuses a bias Add into it), one MatMulNBits over 8- or 4-bit
   * blocks in int8 and int4. Several HF weights stacked (`sources`) make one product whose output is split.
   */
  const linear = (x: string, name: string, weight: { name: string; rows: number; columns: number; sources: string[] }, bias?: string): string => {
    if (options.precision === 'fp32') {
      b.addWeight({ name: weight.name, dims: [weight.columns, weight.rows], sources: weight.sources, addOne: false, transpose: true });
      const product = b.op1('MatMul', [x, weight.name], undefined, { name });
      return bias ? b.op1('Add', [product, bias], undefined, { name: `${name}Bias` }) : product;
    }
    const bits = PRECISION_BITS[options.precision];
    const codes = `${weight.name}.int${bits}`;
    b.addWeight({ name: codes, dims: [weight.rows, weight.columns], sources: weight.sources, addOne: false, bits });
    const attributes = { K: weight.columns, N: weight.rows, bits, block_size: BLOCK_SIZE, accuracy_level: 4 };
    // The bias is MatMulNBits' sixth input (after the absent zero points and group indices): one kernel, not two.
    const inputs = bias ? [x, codes, scalesName(codes), '', '', bias] : [x, codes, scalesName(codes)];
    return b.op1('MatMulNBits', inputs, attributes, { name, domain: 'com.microsoft' });
  };
  const projection = (rows: number, columns: number, source: string) => ({ name: source, rows, columns, sources: [source] });
  /** cap · tanh(x / cap), gemma2's soft-capping of attention scores and of the logits. */
  const softcap = (x: string, cap: number) => b.op1('Mul', [b.op1('Tanh', [b.op1('Div', [x, b.scalar(cap)])]), b.scalar(cap)], undefined, { name: 'Softcap' });

  /**
   * x ─┬─ FusedGemm(W, b, relu) ── r ── Gemm(U, + x) ── x'
   *    └───────────────────────────────────────┘
   * b is [1, C], or [T, C] when the gate depends on the position (−∞ where a column is off). r is also
   * the probe readout. Zero W, b and U (what the runtime feeds when idle) make it a no-op: x + 0.
   */
  const steer = (x: string, hook: string): string => {
    const names = steeringInputs(hook);
    const w = b.input(names.w, DataType.FLOAT, [H, C]);
    const bias = b.input(names.b, DataType.FLOAT, ['G', C]);
    const u = b.input(names.u, DataType.FLOAT, [C, H]);
    return b.inScope(`steer/${hook}`, () => {
      const readout = b.op1('FusedGemm', [x, w, bias], { activation: 'Relu' }, { name: 'Readout', domain: 'com.microsoft' });
      const r = b.output(readout, probeOutput(hook), ['T', C]);
      return b.op1('Gemm', [r, u, x], undefined, { name: 'Write' });
    });
  };

  const hook = (x: string, layer: number, kind: HookKind): string => {
    const name = hookName({ layer, kind });
    return b.output(options.steeredKinds.includes(steeringKind(name)!) ? steer(x, name) : x, name, ['T', H]);
  };

  // Embeddings.
  const embedding16 = options.embeddingDtype === 'F16' || options.embeddingDtype === 'BF16' ? options.embeddingDtype : undefined;
  b.addWeight({ name: 'model.embed_tokens.weight', dims: [V, H], sources: ['model.embed_tokens.weight'], addOne: false, stored16: embedding16 });
  let resid = b.inScope('embed', () => {
    const rows = b.op1('Gather', ['model.embed_tokens.weight', inputIds], { axis: 0 });
    const gathered = embedding16 ? b.op1('Cast', [rows], { to: DataType.FLOAT }) : rows;
    return spec.embeddingMultiplier === 1 ? gathered : b.op1('Mul', [gathered, b.scalar(Math.fround(spec.embeddingMultiplier))]);
  });
  resid = hook(resid, 0, 'hook_resid_pre');

  const layerOutputs: string[] = [];
  for (let l = 0; l < spec.numLayers; l++) {
    const p = `model.layers.${l}`;
    resid = b.inScope(`layers.${l}`, () => {
      const residPre = resid;
      const ln1 = hook(rmsNorm(residPre, normWeight(`${p}.input_layernorm.weight`, H)), l, 'ln1.hook_normalized');

      // Attention.
      /**
       * ln1 ── QKV ── Reshape [T, heads, d] ── Split ─┬ q ── [qk-norm] ── RoPE ── Transpose ── Reshape [nKV, g·T, d] ─┐
       *                                               ├ k ── [qk-norm] ── RoPE = new_key ── Concat(past) ── Transpose [nKV, S, d] ── MatMul(ᵀ, ×scale) ── [softcap] ── +mask ── Softmax ─┐
       *                                               └ v = new_value ── Concat(past) ── Transpose [nKV, S, d] ─────────────────────────────────────────────────────── MatMul ── Reshape/Transpose [T, nH·d] ── O
       * (QKV, O: `linear` projections). The cache is position-major, [positions, nKV, d], and only the
       * new tokens' rows are outputs: the runtime appends them in place (kv-cache.ts), where returning the
       * whole cache would copy it out of onnxruntime every step.
       */
      const attnOut = b.inScope('attn', () => {
        // q, k and v in one product over their weights stacked: a decode step reads them in one kernel.
        const sources = (part: string) => ['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.${part}`);
        const bias = spec.attentionBias ? b.weight(`${p}.self_attn.qkv_proj.bias`, [nH * d + 2 * nKV * d], sources('bias')) : undefined;
        const stacked = { name: `${p}.self_attn.qkv_proj.weight`, rows: nH * d + 2 * nKV * d, columns: H, sources: sources('weight') };
        const heads = b.op1('Reshape', [linear(ln1, 'QKV', stacked, bias), b.ints([-1, nH + 2 * nKV, d])]);
        const [qHeads, kHeads, v] = b.op('Split', [heads, b.ints([nH, nKV, nKV])], { axis: 1 }, { outputs: 3 });
        let [q, k] = [qHeads, kHeads];
        if (spec.qkNorm) {
          q = rmsNorm(q, b.weight(`${p}.self_attn.q_norm.weight`, [d], [`${p}.self_attn.q_norm.weight`], spec.normAddsOne));
          k = rmsNorm(k, b.weight(`${p}.self_attn.k_norm.weight`, [d], [`${p}.self_attn.k_norm.weight`], spec.normAddsOne));
        }
        // [T, heads, d] read as (batch T, sequence heads, hidden d): one rotation per head, at that token's position.
        const rope = (x: string, positions: string) => b.op1('RotaryEmbedding', [x, positions, cos, sin], { interleaved: 0 }, { domain: 'com.microsoft' });
        q = b.op1('Transpose', [rope(q, queryPositions)], { perm: [1, 0, 2] });
        const newKeys = b.output(rope(k, keyPositions), newKey(l), ['T', nKV, d]);
        const newValues = b.output(v, newValue(l), ['T', nKV, d]);
        b.inputs.push({ name: pastKey(l), elemType: DataType.FLOAT, shape: ['P', nKV, d] });
        b.inputs.push({ name: pastValue(l), elemType: DataType.FLOAT, shape: ['P', nKV, d] });
        // Both [nKV, S, d]: moving whole d-float rows, where a [nKV, d, S] transposition would move single floats.
        const keys = b.op1('Transpose', [b.op1('Concat', [pastKey(l), newKeys], { axis: 0 })], { perm: [1, 0, 2] });
        const values = b.op1('Transpose', [b.op1('Concat', [pastValue(l), newValues], { axis: 0 })], { perm: [1, 0, 2] });

        const qGrouped = b.op1('Reshape', [q, b.ints([nKV, -1, d])]);
        const raw = b.op1('FusedMatMul', [qGrouped, keys], { alpha: { float: spec.attentionScale }, transB: 1 }, { name: 'Scores', domain: 'com.microsoft' });
        const scores = spec.attnLogitSoftcap === null ? raw : softcap(raw, spec.attnLogitSoftcap);
        const layerMask = spec.slidingWindows[l] !== null && localMask ? localMask : mask;
        const probs = b.op1('Softmax', [b.op1('Add', [scores, layerMask])], { axis: -1 });
        const context = b.op1('MatMul', [probs, values], undefined, { name: 'Context' });
        const perToken = b.op1('Transpose', [b.op1('Reshape', [context, b.ints([nH, -1, d])])], { perm: [1, 0, 2] });
        const flat = b.op1('Reshape', [perToken, b.ints([-1, nH * d])]);
        const out = linear(flat, 'O', projection(H, nH * d, `${p}.self_attn.o_proj.weight`));
        return spec.sandwichNorms ? rmsNorm(out, normWeight(`${p}.post_attention_layernorm.weight`, H)) : out;
      });
      const mid = hook(b.op1('Add', [residPre, attnOut], undefined, { name: 'ResidualAttn' }), l, 'hook_resid_mid');

      const ln2Weight = spec.sandwichNorms ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`;
      const ln2 = hook(rmsNorm(mid, normWeight(ln2Weight, H)), l, 'ln2.hook_normalized');

      const mlpOut = b.inScope('mlp', () => {
        const gatePart = linear(ln2, 'Gate', projection(F, H, `${p}.mlp.gate_proj.weight`));
        const upPart = linear(ln2, 'Up', projection(F, H, `${p}.mlp.up_proj.weight`));
        const activated =
          spec.activation === 'silu' ? b.op1('Mul', [gatePart, b.op1('Sigmoid', [gatePart])], undefined, { name: 'SiLU' }) : b.op1('Gelu', [gatePart], { approximate: 'tanh' });
        const out = linear(b.op1('Mul', [activated, upPart]), 'Down', projection(H, F, `${p}.mlp.down_proj.weight`));
        return spec.sandwichNorms ? rmsNorm(out, normWeight(`${p}.post_feedforward_layernorm.weight`, H)) : out;
      });
      return hook(b.op1('Add', [mid, mlpOut], undefined, { name: 'ResidualMlp' }), l, 'hook_resid_post');
    });
    layerOutputs.push(resid);
  }

  const headSource = spec.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  /** Final-normed rows [N, H] through the output layer (and gemma2's soft-cap): logits [N, V]. */
  const unembed = (normedRows: string) => {
    // Tied weights get their own copy in the output layer's layout; the embedding only gathers rows of its own.
    const logits = linear(normedRows, 'LmHead', { ...projection(V, H, headSource), name: 'lm_head.weight' });
    return spec.finalLogitSoftcap === null ? logits : softcap(logits, spec.finalLogitSoftcap);
  };
  b.inScope('final', () => {
    const normed = b.output(rmsNorm(resid, normWeight('model.norm.weight', H)), FINAL_NORM_HOOK, ['T', H]);
    b.output(unembed(b.op1('Gather', [normed, logitsIndex], { axis: 0 })), 'logits', ['N', V]);
  });

  /**
   * Logit lens: rows M of every layer's hook_resid_post ── Concat [L·M, H] ── final norm ── output layer
   * ── LogSoftmax ─┬ Gather(tokens K) ─┐
   *               └ ReduceMax ────────┴ Concat = lens_logprobs [L·M, K + 1]
   * (log p of each chosen token, then the top token's log p). With no rows it costs nothing.
   */
  b.inScope('lens', () => {
    const rows = layerOutputs.map((output) => b.op1('Gather', [output, lensIndex], { axis: 0 }));
    const stacked = b.op1('Concat', rows, { axis: 0 });
    const logProbs = b.op1('LogSoftmax', [unembed(rmsNorm(stacked, normWeight('model.norm.weight', H)))], { axis: -1 });
    const chosen = b.op1('Gather', [logProbs, lensTokens], { axis: 1 });
    const top = b.op1('ReduceMax', [logProbs, b.ints([-1])], { keepdims: 1 });
    b.output(b.op1('Concat', [chosen, top], { axis: 1 }), LENS_OUTPUT, ['LM', 'K1']);
  });

  return {
    graph: { name: `thinkscope-${spec.architecture}`, nodes: b.nodes, initializers: b.initializers, inputs: b.inputs, outputs: b.outputs },
    weights: b.weights,
  };
}

