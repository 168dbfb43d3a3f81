// A checkpoint's weights as one set of named tensors, whether stored in model.safetensors or sharded
// behind model.safetensors.index.json.
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { CheckpointError } from './errors';
import { openSafetensors, type SafetensorsFile, type TensorInfo } from './safetensors';
import { fileContentHash } from './content-hash';
import type { Progress } from '../runtime/progress';

const SINGLE_WEIGHTS_FILE = 'model.safetensors';
const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

export interface CheckpointWeights {
  /** The safetensors files, in the order they were opened. */
  readonly files: readonly SafetensorsFile[];
  /** Every tensor, with the path of the file that holds it. */
  readonly tensors: ReadonlyMap<string, TensorInfo & { file: string }>;
  readBytes(name: string): Promise<Uint8Array>;
  readFloat32(name: string): Promise<Float32Array>;
  readInt32(name: string): Promise<Int32Array>;
  /** sha256 over each file's name and the sha256 of all its bytes (remembered in `memoDir` while the file is unchanged). */
  contentHash(memoDir: string, progress?: Progress): Promise<string>;
  close(): Promise<void>;
}

/** Opens model.safetensors, or else the shards listed by model.safetensors.index.json. */
export async function openCheckpointWeights(dir: string): Promise<CheckpointWeights> {
  const entries = await listFolder(dir);
  if (entries.includes(SINGLE_WEIGHTS_FILE)) {
    const file = await openSafetensors(await insideFolder(dir, SINGLE_WEIGHTS_FILE));
    return new UnionWeights([file], new Map([...file.tensors.keys()].map((name) => [name, file])));
  }
  if (entries.includes(WEIGHTS_INDEX_FILE)) return openSharded(dir, entries);
  const others = entries.filter((name) => /\.(bin|pt|pth|gguf|safetensors)$/.test(name));
  throw new CheckpointError(
    `${dir}: no ${SINGLE_WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}` +
      (others.length ? ` (found ${others.slice(0, 5).join(', ')}; only safetensors weights with those names are supported).` : '.'),
  );
}

async function openSharded(dir: string, entries: string[]): Promise<CheckpointWeights> {
  const indexPath = join(dir, WEIGHTS_INDEX_FILE);
  const weightMap = parseWeightMap(await readFile(indexPath, 'utf8'), indexPath);
  const shardNames = [...new Set(weightMap.values())];
  const missing = shardNames.filter((name) => !entries.includes(name));
  if (missing.length) {
    throw new CheckpointError(`${indexPath} lists shard files that are missing from the folder: ${missing.join(', ')}.`);
  }
  const shards = new Map<string, SafetensorsFile>();
  try {
    for (const name of shardNames) shards.set(name, await openSafetensors(await insideFolder(dir, name)));
    const owners = new Map<string, SafetensorsFile>();
    for (const [tensor, shardName] of weightMap) {
      const shard = shards.get(shardName)!;
      if (!shard.tensors.has(tensor)) {
        throw new CheckpointError(`${indexPath} maps "${tensor}" to ${shardName}, but that shard has no such tensor.`);
      }
      owners.set(tensor, shard);
    }
    return new UnionWeights([...shards.values()], owners);
  } catch (error) {
    await Promise.all([...shards.values()].map((shard) => shard.close()));
    throw error;
  }
}

function parseWeightMap(text: string, indexPath: string): Map<string, string> {
  let index: unknown;
  try {
    index = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${indexPath} is not valid JSON (${(error as Error).message}).`);
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new CheckpointError(`${indexPath} has no "weight_map" object (tensor name → shard file).`);
  }
  const map = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    // Shards must be plain file names in the same folder: a path could point anywhere on disk.
    if (typeof shard !== 'string' || shard !== basename(shard) || shard === '..' || !shard.endsWith('.safetensors')) {
      throw new CheckpointError(`${indexPath}: "${tensor}" maps to ${JSON.stringify(shard)}; expected a .safetensors file name in the same folder.`);
    }
    map.set(tensor, shard);
  }
  if (map.size === 0) throw new CheckpointError(`${indexPath}: "weight_map" is empty.`);
  return map;
}

/**
 * The path of a weights file, refused when it is a link that leads out of the model folder. A
 * Hugging Face hub cache snapshot (`models--org--name/snapshots/REVISION/`) links into that
 * repository's own `blobs/`, so there the repository folder is the bound.
 */
async function insideFolder(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  const [folder, target] = await Promise.all([realpath(dir), realpath(path).catch(() => path)]);
  const bound = basename(dirname(folder)) === 'snapshots' ? dirname(dirname(folder)) : folder;
  const inside = relative(bound, target);
  if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new CheckpointError(`${path} is a link to ${target}, outside the model folder; copy the file into the folder instead.`);
  }
  return path;
}

async function listFolder(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(`${dir}: cannot read the model folder (${code === 'ENOENT' ? 'no such folder' : code === 'ENOTDIR' ? 'not a folder' : code}).`);
  }
}

class UnionWeights implements CheckpointWeights {
  readonly tensors: ReadonlyMap<string, TensorInfo & { file: string }>;

  constructor(
    readonly files: readonly SafetensorsFile[],
    private readonly owners: ReadonlyMap<string, SafetensorsFile>,
  ) {
    this.tensors = new Map(
      [...owners].map(([name, file]) => [name, { ...file.tensors.get(name)!, file: file.path }] as const),
    );
  }

  readBytes(name: string): Promise<Uint8Array> {
    return this.owner(name).readBytes(name);
  }

  readFloat32(name: string): Promise<Float32Array> {
    return this.owner(name).readFloat32(name);
  }

  readInt32(name: string): Promise<Int32Array> {
    return this.owner(name).readInt32(name);
  }

  async contentHash(memoDir: string, progress: Progress = {}): Promise<string> {
    const hash = createHash('sha256');
    for (const file of this.files) hash.update(`${basename(file.path)}\0${await fileContentHash(file.path, memoDir, progress)}\0`);
    return hash.digest('hex');
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((file) => file.close()));
  }

  private owner(name: string): SafetensorsFile {
    const file = this.owners.get(name);
    if (!file) throw new CheckpointError(`the checkpoint has no tensor named "${name}".`);
    return file;
  }
}
