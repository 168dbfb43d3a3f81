// Runs the built graph with onnxruntime-node: forward passes over new tokens given a KV cache, with
// steering, hook capture and probe readouts. The KV cache is an immutable value: a forward returns a
// new one and leaves its input untouched, so forking a prefix is sharing a reference.

import * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../common/model-spec';
import { parseHook } from '../../common/hooks';
import { gateRows, planSteering, STEERING_COLUMNS, type HookPlan, type Intervention, type ProbeRequest } from '../../common/steering-plan';
import { canonicalHook, steerableHooks, pastKey, pastValue, presentKey, presentValue, probeOutput, steeringInputs } from '../graph/graph-builder';
import { attentionMask, ropeInverseFrequencies, ropeTables } from './positions';

export interface KvCache {
  /** Number of positions held. */
  readonly length: number;
  readonly keys: readonly ort.Tensor[];
  readonly values: readonly ort.Tensor[];
}

/** Interventions and probes compiled for the graph's steering inputs; reusable across calls. */
export interface Steering {
  readonly plans: ReadonlyMap<string, HookPlan>;
  readonly tensors: ReadonlyMap<string, { w: ort.Tensor; b: ort.Tensor; u: ort.Tensor }>;
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
}

export class DecoderSession {
  private readonly inverseFrequencies: Float64Array;
  private readonly hasLocalAttention: boolean;
  /** Hooks whose steering blocks take inputs; empty for a graph built without steering. */
  private readonly steerable: string[];
  /** Fed at every hook without a plan: a steering block with zero W and U changes nothing. */
  private readonly idle: { w: ort.Tensor; b: ort.Tensor; u: ort.Tensor; gate: ort.Tensor };
  readonly emptyCache: KvCache;

  private constructor(
    readonly spec: ModelSpec,
    private readonly session: ort.InferenceSession,
  ) {
    this.inverseFrequencies = ropeInverseFrequencies(spec);
    this.hasLocalAttention = spec.slidingWindows.some((w) => w !== null);
    const inputs = new Set(session.inputNames);
    this.steerable = steerableHooks(spec.numLayers).filter((hook) => inputs.has(steeringInputs(hook).w));
    const H = spec.hiddenSize;
    const C = STEERING_COLUMNS;
    this.idle = {
      w: new ort.Tensor('float32', new Float32Array(H * C), [H, C]),
      b: new ort.Tensor('float32', new Float32Array(C), [C]),
      u: new ort.Tensor('float32', new Float32Array(C * H), [C, H]),
      gate: new ort.Tensor('float32', new Float32Array(C), [1, C]),
    };
    const { numKvHeads: nKV, headDim: d, numLayers } = spec;
    const empty = () => new ort.Tensor('float32', new Float32Array(0), [nKV, d, 0]);
    const emptyValues = () => new ort.Tensor('float32', new Float32Array(0), [nKV, 0, d]);
    this.emptyCache = { length: 0, keys: Array.from({ length: numLayers }, empty), values: Array.from({ length: numLayers }, emptyValues) };
  }

  static async create(spec: ModelSpec, modelPath: string, options: SessionOptions = {}): Promise<DecoderSession> {
    const session = await ort.InferenceSession.create(modelPath, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      intraOpNumThreads: options.threads ?? 0,
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    return new DecoderSession(spec, session);
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  /** Compiles interventions and probes once; the result can drive any number of forward calls. */
  compileSteering(interventions: readonly Intervention[], probes: readonly (ProbeRequest & { name: string })[] = []): Steering {
    for (const item of [...interventions, ...probes]) parseHook(item.hook, this.spec.numLayers);
    if (this.steerable.length === 0 && interventions.length + probes.length > 0) throw new Error('this graph was built without steering blocks: it cannot steer or probe');
    const H = this.spec.hiddenSize;
    const C = STEERING_COLUMNS;
    const plans = planSteering(interventions, probes, H, canonicalHook);
    const tensors = new Map(
      [...plans].map(([hook, plan]) => [
        hook,
        {
          w: new ort.Tensor('float32', plan.w, [H, C]),
          b: new ort.Tensor('float32', plan.b, [C]),
          u: new ort.Tensor('float32', plan.u, [C, H]),
        },
      ]),
    );
    return { plans, tensors };
  }

  async forward(request: ForwardRequest): Promise<ForwardResult> {
    const { spec } = this;
    const ids = Array.from(request.ids);
    const count = ids.length;
    if (count === 0) throw new Error('forward needs at least one token');
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize) throw new Error(`token id ${id} is outside the vocabulary (0..${spec.vocabSize - 1})`);
    }
    const cache = request.cache ?? this.emptyCache;
    const past = cache.length;
    const group = spec.numHeads / spec.numKvHeads;
    const keys = past + count;
    if (keys > spec.maxPositions) throw new Error(`sequence of ${keys} tokens exceeds the model's ${spec.maxPositions} positions`);

    const { cos, sin } = ropeTables(this.inverseFrequencies, past, count);
    const logitRows = this.logitRows(request.logits ?? 'last', count);
    const d = spec.headDim;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [count]),
      rope_cos: new ort.Tensor('float32', cos, [count, 1, d]),
      rope_sin: new ort.Tensor('float32', sin, [count, 1, d]),
      attn_mask: new ort.Tensor('float32', attentionMask(past, count, group, null), [group * count, keys]),
      logits_index: new ort.Tensor('int64', BigInt64Array.from(logitRows, BigInt), [logitRows.length]),
    };
    if (this.hasLocalAttention) {
      const window = spec.slidingWindows.find((w) => w !== null) ?? null;
      feeds.attn_mask_local = new ort.Tensor('float32', attentionMask(past, count, group, window), [group * count, keys]);
    }
    for (let l = 0; l < spec.numLayers; l++) {
      feeds[pastKey(l)] = cache.keys[l] as ort.Tensor;
      feeds[pastValue(l)] = cache.values[l] as ort.Tensor;
    }
    const steering = request.steering;
    for (const hook of this.steerable) {
      const names = steeringInputs(hook);
      const plan = steering?.plans.get(hook);
      const tensors = steering?.tensors.get(hook);
      if (plan && tensors) {
        const gate = gateRows(plan, past, count);
        Object.assign(feeds, { [names.w]: tensors.w, [names.b]: tensors.b, [names.u]: tensors.u });
        feeds[names.gate] = new ort.Tensor('float32', gate.data, [gate.rows, STEERING_COLUMNS]);
      } else {
        Object.assign(feeds, { [names.w]: this.idle.w, [names.b]: this.idle.b, [names.u]: this.idle.u, [names.gate]: this.idle.gate });
      }
    }

    const captureNames = (request.capture ?? []).map((name) => {
      parseHook(name, spec.numLayers);
      return { name, output: canonicalHook(name) };
    });
    const probeHooks = steering ? [...steering.plans.values()].filter((p) => p.probes.size > 0) : [];
    const fetches = [
      'logits',
      ...Array.from({ length: spec.numLayers }, (_, l) => [presentKey(l), presentValue(l)]).flat(),
      ...new Set(captureNames.map((c) => c.output)),
      ...probeHooks.map((p) => probeOutput(p.hook)),
    ];
    const outputs = await this.session.run(feeds, fetches);

    const captures = new Map(captureNames.map((c) => [c.name, outputs[c.output].data as Float32Array]));
    const probes = new Map<string, Float32Array>();
    for (const plan of probeHooks) {
      const readout = outputs[probeOutput(plan.hook)].data as Float32Array;
      for (const [name, column] of plan.probes) {
        probes.set(name, Float32Array.from({ length: count }, (_, t) => readout[t * STEERING_COLUMNS + column]));
      }
    }
    return {
      logits: outputs.logits.data as Float32Array,
      captures,
      probes,
      cache: {
        length: keys,
        keys: Array.from({ length: spec.numLayers }, (_, l) => outputs[presentKey(l)]),
        values: Array.from({ length: spec.numLayers }, (_, l) => outputs[presentValue(l)]),
      },
    };
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
