// Per-call inputs that depend only on absolute positions: RoPE tables and attention masks.

import type { ModelSpec } from '../../common/model-spec';

/** RoPE inverse frequencies with the checkpoint's scaling (transformers' rope_init_fn semantics). */
export function ropeInverseFrequencies(spec: ModelSpec): Float64Array {
  const half = spec.headDim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(spec.ropeTheta, (2 * i) / spec.headDim));
  const scaling = spec.ropeScaling;
  if (scaling.kind === 'linear') return inv.map((f) => f / scaling.factor);
  if (scaling.kind === 'llama3') {
    const lowWavelen = scaling.originalMaxPositions / scaling.lowFreqFactor;
    const highWavelen = scaling.originalMaxPositions / scaling.highFreqFactor;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) return f / scaling.factor;
      if (wavelen < highWavelen) return f;
      const smooth = (scaling.originalMaxPositions / wavelen - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
      return (1 - smooth) * (f / scaling.factor) + smooth * f;
    });
  }
  return inv;
}

/** cos and sin tables [count, 1, headDim] for positions start..start+count−1 (halves duplicated). */
export function ropeTables(inverseFrequencies: Float64Array, start: number, count: number): { cos: Float32Array; sin: Float32Array } {
  const half = inverseFrequencies.length;
  const d = half * 2;
  const cos = new Float32Array(count * d);
  const sin = new Float32Array(count * d);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < half; i++) {
      // transformers computes position × inv_freq in float32; so do we, then cos/sin of that angle.
      const angle = Math.fround(Math.fround(start + t) * Math.fround(inverseFrequencies[i]));
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * d + i] = cos[t * d + i + half] = c;
      sin[t * d + i] = sin[t * d + i + half] = s;
    }
  }
  return { cos, sin };
}

/**
 * Additive causal mask [group·count, past+count] for queries at positions past..past+count−1, tiled
 * `group` times (one copy per query head sharing a KV head). `window` keeps the last W keys.
 */
export function attentionMask(past: number, count: number, group: number, window: number | null): Float32Array {
  const keys = past + count;
  const mask = new Float32Array(group * count * keys);
  for (let t = 0; t < count; t++) {
    const position = past + t;
    const row = mask.subarray(t * keys, (t + 1) * keys);
    for (let s = 0; s < keys; s++) {
      const visible = s <= position && (window === null || s > position - window);
      row[s] = visible ? 0 : -Infinity;
    }
  }
  for (let g = 1; g < group; g++) mask.copyWithin(g * count * keys, 0, count * keys);
  return mask;
}
