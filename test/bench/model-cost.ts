// What one forward costs the hardware, from the graph the engine builds: bytes of weights a decode step
// reads and the matrix FLOPs a prefill needs.

import type { ModelSpec } from '../../extension/common/model-spec';
import { buildDecoderGraph, type Precision } from '../../extension/engine/graph/graph-builder';
import { quantizedBytes } from '../../extension/engine/graph/quantize-blocks';

const EMBEDDING = 'model.embed_tokens.weight';

/** Weight bytes one decode step reads: every weight once, but of the embedding table only the token's row. */
export function decodeWeightBytes(spec: ModelSpec, precision: Precision): number {
  let bytes = 0;
  for (const plan of buildDecoderGraph(spec, { precision, steeredKinds: [] }).weights) {
    if (plan.name === EMBEDDING) bytes += spec.hiddenSize * 4;
    else if (plan.bits) bytes += quantizedBytes(plan.dims[0], plan.dims[1], plan.bits);
    else bytes += plan.dims.reduce((a, b) => a * b, 1) * 4;
  }
  return bytes;
}

/** Matrix FLOPs of a prefill of `tokens` from an empty cache: projections, causal attention, one row of logits. */
export function prefillFlops(spec: ModelSpec, tokens: number): number {
  const { hiddenSize: H, numHeads: nH, numKvHeads: nKV, headDim: d, intermediateSize: F, vocabSize: V, numLayers } = spec;
  const perLayerParams = H * (nH + 2 * nKV) * d + nH * d * H + 3 * H * F;
  const attention = 2 * 2 * nH * d * ((tokens * (tokens + 1)) / 2);
  return numLayers * (2 * tokens * perLayerParams + attention) + 2 * V * H;
}
