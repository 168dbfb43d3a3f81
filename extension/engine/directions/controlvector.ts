// Directions to and from llama.cpp control-vector GGUF files (read and written by llama.cpp, repeng
// and EasySteer). GGUF `direction.k` is added to the output of block k, i.e. blocks.{k}.hook_resid_post;
// a ThinkScope vector at blocks.{l}.hook_resid_pre is the same edit as one at block l−1's output.

import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../atomic-write';
import { basename } from 'node:path';
import { DIRECTION_SCHEMA_ID, DirectionError, type Direction } from '../../common/direction';
import { controlVectorBytes, parseControlVector } from './gguf';

export async function importControlVector(path: string): Promise<Direction> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DirectionError(`${path}: cannot read the control vector (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const vector = parseControlVector(bytes, path);
  return {
    meta: {
      schema: DIRECTION_SCHEMA_ID,
      name: basename(path).replace(/\.gguf$/i, ''),
      method: 'imported',
      hook: 'hook_resid_post',
      layers: vector.layers,
      hiddenSize: vector.vectors[0].length,
      model: null,
      counts: {},
      signConvention: 'a positive scale adds the control vector as llama.cpp does (--control-vector-scaled FILE scale)',
      createdAt: new Date().toISOString(),
      details: { format: 'llama.cpp controlvector GGUF', source: basename(path), modelHint: vector.modelHint ?? '' },
    },
    vectors: vector.vectors,
    companions: {},
  };
}

export interface ExportOptions {
  /** Only these layers of the direction (its own layer numbers); all when omitted. */
  layers?: number[];
  /** Multiplies every vector (e.g. −1 for a SEAL direction, whose calibrating sign is negative). */
  scale?: number;
}

export interface ExportResult {
  /** GGUF block indices written. */
  blocks: number[];
  /** Direction layers left out because they land on block 0's output, which llama.cpp never steers. */
  skipped: number[];
}

export async function exportControlVector(direction: Direction, path: string, options: ExportOptions = {}): Promise<ExportResult> {
  const { meta } = direction;
  const offset = meta.hook === 'hook_resid_post' ? 0 : meta.hook === 'hook_resid_pre' ? -1 : null;
  if (offset === null) {
    throw new DirectionError(`direction "${meta.name}" lives at ${meta.hook}; llama.cpp control vectors edit the residual stream (hook_resid_post or hook_resid_pre directions only)`);
  }
  const wanted = options.layers ?? meta.layers;
  const missing = wanted.find((l) => !meta.layers.includes(l));
  if (missing !== undefined) throw new DirectionError(`direction "${meta.name}" has no vector for layer ${missing} (it has ${meta.layers.join(', ')})`);
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new DirectionError(`export scale must be a finite number, got ${scale}`);
  const blocks: number[] = [];
  const vectors: Float32Array[] = [];
  const skipped: number[] = [];
  for (const layer of [...new Set(wanted)].sort((a, b) => a - b)) {
    const block = layer + offset;
    if (block < 1) {
      skipped.push(layer);
      continue;
    }
    blocks.push(block);
    vectors.push(direction.vectors[meta.layers.indexOf(layer)].map((x) => x * scale));
  }
  if (blocks.length === 0) throw new DirectionError(`direction "${meta.name}": nothing to export; llama.cpp cannot steer block 0's output, and that is all the chosen layers reach`);
  const hint = meta.model?.architecture ?? (typeof meta.details.modelHint === 'string' ? meta.details.modelHint : null);
  await writeFileAtomically(path, controlVectorBytes({ modelHint: hint, layers: blocks, vectors }));
  return { blocks, skipped };
}
