// The weight formats the engine can build a model's graph in, one list for every place that offers a
// choice (CLI, settings, protocol, trace files).

export const PRECISIONS = ['fp32', 'int8', 'int4'] as const;

/** fp32 computes as the checkpoint's float32 weights (the reference for every score); int8 and int4 store block-quantized weights. */
export type Precision = (typeof PRECISIONS)[number];

export const DEFAULT_PRECISION: Precision = 'fp32';

export function isPrecision(value: unknown): value is Precision {
  return (PRECISIONS as readonly unknown[]).includes(value);
}
