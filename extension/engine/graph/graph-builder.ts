// Emits the steerable decoder graph for a ModelSpec. The graph works on one sequence, with activations
// as 2-D [T, H] tensors (so every projection is one Gemm over the weights as Hugging Face stores them),
// a KV cache passed in and returned per layer, and at every hook point a steering block driven by graph
// inputs (zeros make it a no-op). See architecture.md, "One intervention form covers every method".

import type { ModelSpec } from '../../common/model-spec';
import { FINAL_NORM_HOOK, hookName, type HookKind } from '../../common/hooks';
import { DataType, type Dim, type GraphDef, type NodeDef, type TensorDef, type ValueInfo, type AttributeValue } from './onnx-proto';
import { LINEAR_COLUMNS, RELU_COLUMNS, STEERING_COLUMNS } from '../../common/steering-plan';

/** A weight of the built graph: HF tensors concatenated along their first axis, optionally transformed. */
export interface WeightPlan {
  name: string;
  dims: number[];
  sources: string[];
  /** gemma's RMSNorm gain is (1 + w): stored already added, rounded to float32 as transformers computes it. */
  addOne: boolean;
}

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

/** Every hook point that carries a steering block, in graph order. */
export function steerableHooks(numLayers: number): string[] {
  const perLayer: HookKind[] = ['ln1.hook_normalized', 'hook_resid_mid', 'ln2.hook_normalized', 'hook_resid_post'];
  return ['blocks.0.hook_resid_pre', ...Array.from({ length: numLayers }, (_, l) => perLayer.map((kind) => hookName({ layer: l, kind }))).flat()];
}

export const steeringInputs = (hook: string) => ({
  w: `steer.${hook}.w`,
  b: `steer.${hook}.b`,
  u: `steer.${hook}.u`,
  gate: `steer.${hook}.gate`,
});
export const probeOutput = (hook: string) => `probe.${hook}`;
export const pastKey = (l: number) => `past_key.${l}`;
export const pastValue = (l: number) => `past_value.${l}`;
export const presentKey = (l: number) => `present_key.${l}`;
export const presentValue = (l: number) => `present_value.${l}`;

class Builder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly weights: WeightPlan[] = [];
  private readonly constants = new Map<string, string>();
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
    for (let i = 1; this.nodes.some((n) => n.name === name); i++) name = `${base}_${i}`;
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
    this.weights.push({ name, dims, sources, addOne });
    return name;
  }

  input(name: string, elemType: DataType, shape: Dim[]): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  output(tensor: string, name: string, shape: Dim[]): void {
    const renamed = this.op1('Identity', [tensor], undefined, { name: `output:${name}`, outputName: name });
    this.outputs.push({ name: renamed, elemType: DataType.FLOAT, shape });
  }
}

function encodeValues(elemType: DataType, values: number[]): Uint8Array {
  if (elemType === DataType.INT64) return new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** The rotate_half of RoPE (GPT-NeoX layout) as a signed permutation matrix: x @ R = cat(-x2, x1). */
function rotateHalfMatrix(d: number): number[] {
  const r = new Array<number>(d * d).fill(0);
  const half = d / 2;
  for (let j = 0; j < half; j++) r[(j + half) * d + j] = -1;
  for (let j = half; j < d; j++) r[(j - half) * d + j] = 1;
  return r;
}

export function buildDecoderGraph(spec: ModelSpec): BuiltGraph {
  const b = new Builder();
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKV, headDim: d, intermediateSize: F, vocabSize: V } = spec;
  const C = STEERING_COLUMNS;

  const inputIds = b.input('input_ids', DataType.INT64, ['T']);
  const cos = b.input('rope_cos', DataType.FLOAT, ['T', 1, d]);
  const sin = b.input('rope_sin', DataType.FLOAT, ['T', 1, d]);
  const mask = b.input('attn_mask', DataType.FLOAT, ['GT', 'S']);
  const localMask = spec.slidingWindows.some((w) => w !== null) ? b.input('attn_mask_local', DataType.FLOAT, ['GT', 'S']) : null;
  const logitsIndex = b.input('logits_index', DataType.INT64, ['N']);
  const slope = b.constant(DataType.FLOAT, [C], [...Array(LINEAR_COLUMNS).fill(1), ...Array(RELU_COLUMNS).fill(0)]);
  const rotate = b.constant(DataType.FLOAT, [d, d], rotateHalfMatrix(d));

  const rmsNorm = (x: string, weight: string, eps = spec.rmsNormEps) =>
    b.op1('SimplifiedLayerNormalization', [x, weight], { axis: -1, epsilon: { float: eps }, stash_type: 1 }, { name: 'RMSNorm' });
  const normWeight = (hf: string, size: number) => b.weight(hf, [size], [hf], spec.normAddsOne);

  /**
   * x ─┬─ Gemm(W, b) ── z ── PRelu(slope) ── ⊙ gate ── MatMul(U) ──┐
   *    └──────────────────────────────────────────────────────── Add ── x'
   * z is also the probe readout. Zero W and U (what the runtime feeds when idle) make it a no-op.
   */
  const steer = (x: string, hook: string): string => {
    const names = steeringInputs(hook);
    const w = b.input(names.w, DataType.FLOAT, [H, C]);
    const bias = b.input(names.b, DataType.FLOAT, [C]);
    const u = b.input(names.u, DataType.FLOAT, [C, H]);
    const gate = b.input(names.gate, DataType.FLOAT, ['G', C]);
    return b.inScope(`steer/${hook}`, () => {
      const z = b.op1('Gemm', [x, w, bias], undefined, { name: 'Readout' });
      b.output(z, probeOutput(hook), ['T', C]);
      const shaped = b.op1('PRelu', [z, slope]);
      const gated = b.op1('Mul', [shaped, gate]);
      const delta = b.op1('MatMul', [gated, u]);
      return b.op1('Add', [x, delta]);
    });
  };

  const hook = (x: string, layer: number, kind: HookKind): string => {
    const name = hookName({ layer, kind });
    const edited = steer(x, name);
    b.output(edited, name, ['T', H]);
    return edited;
  };

  // Embeddings.
  const embedWeight = b.weight('model.embed_tokens.weight', [V, H], ['model.embed_tokens.weight']);
  let resid = b.inScope('embed', () => {
    const gathered = b.op1('Gather', [embedWeight, inputIds], { axis: 0 });
    return spec.embeddingMultiplier === 1 ? gathered : b.op1('Mul', [gathered, b.scalar(Math.fround(spec.embeddingMultiplier))]);
  });
  resid = hook(resid, 0, 'hook_resid_pre');

  for (let l = 0; l < spec.numLayers; l++) {
    const p = `model.layers.${l}`;
    resid = b.inScope(`layers.${l}`, () => {
      const residPre = resid;
      const ln1 = hook(rmsNorm(residPre, normWeight(`${p}.input_layernorm.weight`, H)), l, 'ln1.hook_normalized');

      // Attention.
      /**
       * ln1 ── Gemm(qkv) ── Split ─ q ── [qk-norm] ── RoPE ── Transpose ── ×scale ── Reshape [nKV, g·T, d] ─┐
       *                            ├ k ── [qk-norm] ── RoPE ── Transpose [nKV, d, T] ── Concat(past) = present_k ── MatMul ── [softcap] ── +mask ── Softmax ─┐
       *                            └ v ── Transpose [nKV, T, d] ── Concat(past) = present_v ──────────────────────────────────────────────────────────── MatMul ── Reshape/Transpose [T, nH·d] ── Gemm(o)
       */
      const attnOut = b.inScope('attn', () => {
        const qkvRows = (nH + 2 * nKV) * d;
        const qkvSources = ['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.weight`);
        const qkvW = b.weight(`${p}.self_attn.qkv.weight`, [qkvRows, H], qkvSources);
        const gemmInputs = [ln1, qkvW];
        if (spec.attentionBias) {
          gemmInputs.push(b.weight(`${p}.self_attn.qkv.bias`, [qkvRows], ['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.bias`)));
        }
        const qkv = b.op1('Gemm', gemmInputs, { transB: 1 }, { name: 'QKV' });
        const [q2, k2, v2] = b.op('Split', [qkv, b.ints([nH * d, nKV * d, nKV * d])], { axis: 1 }, { outputs: 3 });
        let q = b.op1('Reshape', [q2, b.ints([-1, nH, d])]);
        let k = b.op1('Reshape', [k2, b.ints([-1, nKV, d])]);
        const v = b.op1('Reshape', [v2, b.ints([-1, nKV, d])]);
        if (spec.qkNorm) {
          q = rmsNorm(q, b.weight(`${p}.self_attn.q_norm.weight`, [d], [`${p}.self_attn.q_norm.weight`], spec.normAddsOne));
          k = rmsNorm(k, b.weight(`${p}.self_attn.k_norm.weight`, [d], [`${p}.self_attn.k_norm.weight`], spec.normAddsOne));
        }
        const rope = (x: string) => b.op1('Add', [b.op1('Mul', [x, cos]), b.op1('Mul', [b.op1('MatMul', [x, rotate]), sin])]);
        q = b.op1('Mul', [b.op1('Transpose', [rope(q)], { perm: [1, 0, 2] }), b.scalar(spec.attentionScale)]);
        const kT = b.op1('Transpose', [rope(k)], { perm: [1, 2, 0] });
        const vT = b.op1('Transpose', [v], { perm: [1, 0, 2] });
        const keys = b.op1('Concat', [pastKey(l), kT], { axis: 2 }, { outputName: presentKey(l) });
        const values = b.op1('Concat', [pastValue(l), vT], { axis: 1 }, { outputName: presentValue(l) });
        b.inputs.push({ name: pastKey(l), elemType: DataType.FLOAT, shape: [nKV, d, 'P'] });
        b.inputs.push({ name: pastValue(l), elemType: DataType.FLOAT, shape: [nKV, 'P', d] });
        b.outputs.push({ name: keys, elemType: DataType.FLOAT, shape: [nKV, d, 'S'] });
        b.outputs.push({ name: values, elemType: DataType.FLOAT, shape: [nKV, 'S', d] });

        const qGrouped = b.op1('Reshape', [q, b.ints([nKV, -1, d])]);
        let scores = b.op1('MatMul', [qGrouped, keys], undefined, { name: 'Scores' });
        if (spec.attnLogitSoftcap !== null) {
          const cap = spec.attnLogitSoftcap;
          scores = b.op1('Mul', [b.op1('Tanh', [b.op1('Div', [scores, b.scalar(cap)])]), b.scalar(cap)], undefined, { name: 'Softcap' });
        }
        const layerMask = spec.slidingWindows[l] !== null && localMask ? localMask : mask;
        const probs = b.op1('Softmax', [b.op1('Add', [scores, layerMask])], { axis: -1 });
        const context = b.op1('MatMul', [probs, values], undefined, { name: 'Context' });
        const perToken = b.op1('Transpose', [b.op1('Reshape', [context, b.ints([nH, -1, d])])], { perm: [1, 0, 2] });
        const flat = b.op1('Reshape', [perToken, b.ints([-1, nH * d])]);
        const oW = b.weight(`${p}.self_attn.o_proj.weight`, [H, nH * d], [`${p}.self_attn.o_proj.weight`]);
        const out = b.op1('Gemm', [flat, oW], { transB: 1 }, { name: 'O' });
        return spec.sandwichNorms ? rmsNorm(out, normWeight(`${p}.post_attention_layernorm.weight`, H)) : out;
      });
      const mid = hook(b.op1('Add', [residPre, attnOut], undefined, { name: 'ResidualAttn' }), l, 'hook_resid_mid');

      const ln2Weight = spec.sandwichNorms ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`;
      const ln2 = hook(rmsNorm(mid, normWeight(ln2Weight, H)), l, 'ln2.hook_normalized');

      const mlpOut = b.inScope('mlp', () => {
        const guW = b.weight(`${p}.mlp.gate_up.weight`, [2 * F, H], [`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`]);
        const gu = b.op1('Gemm', [ln2, guW], { transB: 1 }, { name: 'GateUp' });
        const [gatePart, upPart] = b.op('Split', [gu, b.ints([F, F])], { axis: 1 }, { outputs: 2 });
        const activated =
          spec.activation === 'silu' ? b.op1('Mul', [gatePart, b.op1('Sigmoid', [gatePart])], undefined, { name: 'SiLU' }) : b.op1('Gelu', [gatePart], { approximate: 'tanh' });
        const dW = b.weight(`${p}.mlp.down_proj.weight`, [H, F], [`${p}.mlp.down_proj.weight`]);
        const out = b.op1('Gemm', [b.op1('Mul', [activated, upPart]), dW], { transB: 1 }, { name: 'Down' });
        return spec.sandwichNorms ? rmsNorm(out, normWeight(`${p}.post_feedforward_layernorm.weight`, H)) : out;
      });
      return hook(b.op1('Add', [mid, mlpOut], undefined, { name: 'ResidualMlp' }), l, 'hook_resid_post');
    });
  }

  b.inScope('final', () => {
    const normed = rmsNorm(resid, normWeight('model.norm.weight', H));
    b.output(normed, FINAL_NORM_HOOK, ['T', H]);
    const rows = b.op1('Gather', [normed, logitsIndex], { axis: 0 });
    const headWeight = spec.tieWordEmbeddings ? embedWeight : b.weight('lm_head.weight', [V, H], ['lm_head.weight']);
    let logits = b.op1('Gemm', [rows, headWeight], { transB: 1 }, { name: 'LmHead' });
    if (spec.finalLogitSoftcap !== null) {
      const cap = spec.finalLogitSoftcap;
      logits = b.op1('Mul', [b.op1('Tanh', [b.op1('Div', [logits, b.scalar(cap)])]), b.scalar(cap)], undefined, { name: 'Softcap' });
    }
    b.output(logits, 'logits', ['N', V]);
  });

  return {
    graph: { name: `thinkscope-${spec.architecture}`, nodes: b.nodes, initializers: b.initializers, inputs: b.inputs, outputs: b.outputs },
    weights: b.weights,
  };
}
