// Directions on disk: DIR/direction.safetensors (tensor "direction" [n, H], companions "companion.NAME")
// and DIR/direction.json (the metadata).

import { readFile, writeFile } from 'node:fs/promises';
import { writeFolderAtomically } from '../atomic-write';
import { join } from 'node:path';
import { checkDirectionFits, DIRECTION_SCHEMA_ID, DirectionError, madeForModel, type Direction, type DirectionMetadata } from '../../common/direction';
import type { ModelFingerprint } from '../../common/bundle/trace-file';
import { openSafetensors, writeSafetensors } from '../checkpoint/safetensors';

const TENSORS = 'direction.safetensors';
const METADATA = 'direction.json';

function stack(vectors: Float32Array[], hidden: number): Float32Array {
  const out = new Float32Array(vectors.length * hidden);
  vectors.forEach((v, i) => out.set(v, i * hidden));
  return out;
}

export async function saveDirection(dir: string, direction: Direction): Promise<void> {
  const { meta } = direction;
  const H = meta.hiddenSize;
  for (const v of [...direction.vectors, ...Object.values(direction.companions).flat()]) {
    if (v.length !== H) throw new DirectionError(`direction "${meta.name}": a vector has ${v.length} values, expected ${H}`);
  }
  const n = meta.layers.length;
  // The folder is written whole and moved into place: its two files always belong together. An
  // earlier direction there is replaced; any other folder with files is refused.
  await writeFolderAtomically(
    dir,
    async (temp) => {
      await writeSafetensors(join(temp, TENSORS), [
        { name: 'direction', dtype: 'F32', shape: [n, H], data: stack(direction.vectors, H) },
        ...Object.entries(direction.companions).map(([name, vectors]) => ({ name: `companion.${name}`, dtype: 'F32' as const, shape: [n, H], data: stack(vectors, H) })),
      ]);
      await writeFile(join(temp, METADATA), JSON.stringify(meta, null, 2) + '\n');
    },
    (existing) => existing.includes(METADATA) && existing.every((name) => name === METADATA || name === TENSORS),
  );
}

export async function loadDirection(dir: string): Promise<Direction> {
  let meta: DirectionMetadata;
  try {
    meta = JSON.parse(await readFile(join(dir, METADATA), 'utf8')) as DirectionMetadata;
  } catch (error) {
    throw new DirectionError(`${dir}: not a ThinkScope direction folder (${METADATA}: ${(error as Error).message})`);
  }
  if (meta?.schema !== DIRECTION_SCHEMA_ID) throw new DirectionError(`${join(dir, METADATA)}: expected "schema": "${DIRECTION_SCHEMA_ID}"`);
  if (!Array.isArray(meta.layers) || !meta.layers.every(Number.isInteger) || !Number.isInteger(meta.hiddenSize)) {
    throw new DirectionError(`${join(dir, METADATA)}: "layers" must be a list of layer numbers and "hiddenSize" a number`);
  }
  const file = await openSafetensors(join(dir, TENSORS));
  try {
    const H = meta.hiddenSize;
    const n = meta.layers.length;
    const read = async (name: string) => {
      const info = file.tensors.get(name);
      if (!info || info.shape.join(',') !== `${n},${H}`) throw new DirectionError(`${join(dir, TENSORS)}: tensor "${name}" must have shape [${n}, ${H}]`);
      const data = await file.readFloat32(name);
      return Array.from({ length: n }, (_, i) => data.slice(i * H, (i + 1) * H));
    };
    const companions: Record<string, Float32Array[]> = {};
    for (const name of file.tensors.keys()) if (name.startsWith('companion.')) companions[name.slice('companion.'.length)] = await read(name);
    return { meta, vectors: await read('direction'), companions };
  } finally {
    await file.close();
  }
}

/** A direction loaded for a model: refused when it cannot apply, with warnings when it was made elsewhere. */
export interface FittedDirection {
  direction: Direction;
  /** E.g. made on other weights of the same shape; empty when it was made on exactly this model. */
  warnings: string[];
}

export async function loadDirectionFor(dir: string, model: ModelFingerprint): Promise<FittedDirection> {
  const direction = await loadDirection(dir);
  checkDirectionFits(direction, model);
  const { meta } = direction;
  const warnings: string[] = [];
  if (meta.model && meta.model.architecture !== model.architecture) {
    warnings.push(`direction "${meta.name}" was made on a ${meta.model.architecture} model (${meta.model.name}); the loaded model is ${model.architecture}`);
  } else if (meta.model && !madeForModel(direction, model.weightsHash)) {
    warnings.push(`direction "${meta.name}" was made on other weights (${meta.model.name}); it fits this model's shape but may not mean the same thing here`);
  }
  const hint = meta.details.modelHint;
  if (!meta.model && typeof hint === 'string' && hint !== '' && hint !== model.architecture) {
    warnings.push(`direction "${meta.name}" says it was made for "${hint}"; the loaded model is ${model.architecture}`);
  }
  return { direction, warnings };
}
