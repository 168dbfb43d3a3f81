// The steering file of `run --steer` and of saved presets:
//   {"interventions": [{"hook", "kind": "add"|"ablate"|"cap"|"rotate", ...}]}
// Vectors are inline numbers or {"file", "tensor"} naming a safetensors tensor, relative to the file.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { checkPositions, SteeringError, type Intervention } from '../common/steering-plan';
import { openSafetensors, type SafetensorsFile } from './checkpoint/safetensors';

type Json = Record<string, unknown>;

export async function loadSteeringFile(path: string): Promise<Intervention[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new SteeringError(`steering file ${path}: cannot read it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SteeringError(`steering file ${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseSteeringSpec(json, dirname(path), `steering file ${path}`);
}

export async function parseSteeringSpec(json: unknown, baseDir: string, what = 'steering'): Promise<Intervention[]> {
  const items = (json as Json | null)?.interventions;
  if (!Array.isArray(items)) throw new SteeringError(`${what}: expected {"interventions": [...]}`);
  const files = new Map<string, SafetensorsFile>();
  try {
    const vector = async (value: unknown, where: string): Promise<Float32Array> => {
      if (Array.isArray(value)) {
        if (!value.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new SteeringError(`${where}: every entry must be a finite number`);
        return Float32Array.from(value);
      }
      const ref = value as Json | null;
      if (typeof ref?.file !== 'string' || typeof ref?.tensor !== 'string') {
        throw new SteeringError(`${where}: expected a list of numbers or {"file": "x.safetensors", "tensor": "name"}`);
      }
      const path = resolve(baseDir, ref.file);
      let file = files.get(path);
      if (!file) files.set(path, (file = await openSafetensors(path)));
      if (!file.tensors.has(ref.tensor)) throw new SteeringError(`${where}: ${ref.file} has no tensor "${ref.tensor}"`);
      return file.readFloat32(ref.tensor);
    };
    const number = (value: unknown, where: string, fallback?: number): number => {
      if (value === undefined && fallback !== undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new SteeringError(`${where}: expected a number`);
      return value;
    };
    const out: Intervention[] = [];
    for (const [i, raw] of items.entries()) {
      const where = `${what}: interventions[${i}]`;
      const item = raw as Json | null;
      if (typeof item?.hook !== 'string') throw new SteeringError(`${where}.hook: expected a hook name such as "blocks.3.hook_resid_post"`);
      const hook = item.hook;
      const positions = checkPositions(item.positions, `${where}.positions`);
      switch (item.kind) {
        case 'add':
          out.push({ hook, kind: 'add', vector: await vector(item.vector, `${where}.vector`), scale: number(item.scale, `${where}.scale`, 1), positions });
          break;
        case 'ablate':
          out.push({ hook, kind: 'ablate', direction: await vector(item.direction, `${where}.direction`), positions });
          break;
        case 'cap':
          out.push({
            hook,
            kind: 'cap',
            direction: await vector(item.direction, `${where}.direction`),
            min: item.min === undefined ? undefined : number(item.min, `${where}.min`),
            max: item.max === undefined ? undefined : number(item.max, `${where}.max`),
            positions,
          });
          break;
        case 'rotate': {
          if (!Array.isArray(item.plane) || item.plane.length !== 2) throw new SteeringError(`${where}.plane: expected two vectors [b1, b2]`);
          const plane: [Float32Array, Float32Array] = [await vector(item.plane[0], `${where}.plane[0]`), await vector(item.plane[1], `${where}.plane[1]`)];
          out.push({ hook, kind: 'rotate', plane, degrees: number(item.degrees, `${where}.degrees`), positions });
          break;
        }
        default:
          throw new SteeringError(`${where}.kind: expected "add", "ablate", "cap" or "rotate", got ${JSON.stringify(item.kind)}`);
      }
    }
    return out;
  } finally {
    await Promise.all([...files.values()].map((f) => f.close()));
  }
}
