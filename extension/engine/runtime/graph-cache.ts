// Builds the weights of a checkpoint's ONNX graphs and keeps them in a cache folder keyed by a
// fingerprint of the config, the weights, the builder version and the options. A build (graph-build.ts,
// on a thread of its own) writes into a private temporary folder that is renamed into place only when
// complete, so an interrupted build leaves no broken cache entry and a second open costs only a session
// load. Each entry keeps the checksums of the files it wrote, and is checked against them before use: a
// damaged entry is built again, never handed to onnxruntime. Partial folders of killed builds are removed,
// and a build removes the entries an earlier version of the builder wrote, which no open can use again.
// The graphs over the weights, one per set of steered hook kinds, are made beside them as sessions ask.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ModelSpec } from '../../common/model-spec';
import type { HookKind } from '../../common/hooks';
import { STEERABLE_KINDS, type Precision, type WeightOptions } from '../graph/graph-builder';
import type { TensorDef } from '../graph/onnx-proto';
import { CancelledError, throwIfCancelled, type Progress } from './progress';
import { fileIdentity } from '../checkpoint/content-hash';
import { CheckpointError } from '../checkpoint/errors';
import { writeFileAtomically } from '../atomic-write';
import { startWorkerThread } from '../worker-thread';
import { CHECKSUMS_FILE, encodeGraph, GRAPH_BUILDER_VERSION, WEIGHT_TABLE_FILE, WEIGHTS_FILE, type BuildThreadData, type BuildThreadMessage, type Checksums, type ReadReply, type WeightSource } from './graph-build';

export interface GraphOptions {
  precision: Precision;
}

export function defaultCacheRoot(): string {
  return process.env.THINKSCOPE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'thinkscope', 'graphs');
}

/** Where the hashes of checkpoint files are remembered (see checkpoint/content-hash.ts). */
export function fileHashFolder(cacheRoot: string): string {
  return join(cacheRoot, '.file-hashes');
}

export function graphFingerprint(configText: string, weightsFingerprint: string, options: GraphOptions): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ builder: GRAPH_BUILDER_VERSION, options: { precision: options.precision }, weightsFingerprint }));
  hash.update(configText);
  return hash.digest('hex').slice(0, 32);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Why a cache entry cannot be used (a file missing, cut short or changed since it was written), or null when it is sound. */
async function damage(dir: string): Promise<string | null> {
  let checksums: Checksums;
  try {
    checksums = JSON.parse(await readFile(join(dir, CHECKSUMS_FILE), 'utf8')) as Checksums;
    if (typeof checksums.files !== 'object' || typeof checksums.checked !== 'object') throw new Error();
  } catch {
    return `${CHECKSUMS_FILE} is missing or unreadable`;
  }
  let rechecked = false;
  for (const name of [WEIGHTS_FILE, WEIGHT_TABLE_FILE]) {
    const expected = checksums.files[name];
    const path = join(dir, name);
    const identity = await fileIdentity(path).catch(() => null);
    if (!expected || identity === null) return `${name} is missing`;
    if (checksums.checked[name] === identity) continue;
    const { size } = await stat(path);
    if (size !== expected.size) return `${name} has ${size} bytes, ${expected.size} were written`;
    if ((await sha256Of(path)) !== expected.sha256) return `${name} does not match the checksum written with it`;
    checksums.checked[name] = identity;
    rechecked = true;
  }
  if (rechecked) await writeFileAtomically(join(dir, CHECKSUMS_FILE), JSON.stringify(checksums));
  return null;
}

/** Removes the partial folders of builds whose process is gone (killed, or the editor closed mid-build). */
async function removeStalePartials(cacheRoot: string): Promise<void> {
  for (const name of await readdir(cacheRoot).catch(() => [] as string[])) {
    const pid = /^\.[0-9a-f]+\.(\d+)\.[0-9a-f]+\.partial$/.exec(name)?.[1];
    if (pid !== undefined && !processIsAlive(Number(pid))) await rm(join(cacheRoot, name), { recursive: true, force: true });
  }
}

/**
 * Removes the entries written by an earlier builder version (their fingerprints are never asked for
 * again): each is as large as a model's weights. Entries of a later version, made by a newer ThinkScope
 * sharing the cache, are kept.
 */
async function removeEarlierVersions(cacheRoot: string, progress: Progress): Promise<void> {
  let removed = 0;
  let bytes = 0;
  for (const name of await readdir(cacheRoot).catch(() => [] as string[])) {
    // Only what has an entry's name and files: the cache root may be any folder the user chose.
    if (!/^[0-9a-f]{32}$/.test(name)) continue;
    const dir = join(cacheRoot, name);
    if (!(await exists(join(dir, WEIGHTS_FILE)))) continue;
    const text = await readFile(join(dir, CHECKSUMS_FILE), 'utf8').catch(() => null);
    if (text === null) continue; // a damaged entry: its own open rebuilds it
    let builder: unknown;
    try {
      builder = (JSON.parse(text) as Partial<Checksums>).builder;
    } catch {
      continue;
    }
    if (typeof builder === 'number' && builder >= GRAPH_BUILDER_VERSION) continue;
    const size = await folderBytes(dir);
    const gone = await rm(dir, { recursive: true, force: true }).then(
      () => true,
      () => false,
    );
    if (!gone) continue;
    removed++;
    bytes += size;
  }
  if (removed > 0) progress.report?.({ message: `removed ${removed} cached model graph${removed === 1 ? '' : 's'} of an earlier ThinkScope version, ${bytesText(bytes)} freed`, done: 0, total: 1 });
}

function bytesText(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) total += await stat(join(dir, name)).then((s) => s.size, () => 0);
  return total;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A cache entry: the weights of a checkpoint's graphs, and what makes a graph over them. */
export interface CachedGraph {
  dir: string;
  fingerprint: string;
  /** True when this call built the weights (first open), false on a cache hit. */
  built: boolean;
  spec: ModelSpec;
  options: WeightOptions;
}

/** Returns the cache entry of this checkpoint, building its weights first if needed. */
export async function ensureGraph(
  spec: ModelSpec,
  fingerprint: string,
  source: WeightSource,
  progress: Progress,
  cacheRoot = defaultCacheRoot(),
  options: GraphOptions = { precision: 'fp32' },
): Promise<CachedGraph> {
  const finalDir = join(cacheRoot, fingerprint);
  const embeddingDtype = source.tensors.get('model.embed_tokens.weight')?.dtype;
  const weightOptions: WeightOptions = { precision: options.precision, embeddingDtype: embeddingDtype === 'F16' || embeddingDtype === 'BF16' ? embeddingDtype : 'F32' };
  const entry = (built: boolean): CachedGraph => ({ dir: finalDir, fingerprint, built, spec, options: weightOptions });
  await removeStalePartials(cacheRoot);
  if (await exists(finalDir)) {
    const problem = await damage(finalDir);
    if (problem === null) return entry(false);
    const message = `the cached graph of this model is damaged (${problem}): building it again`;
    console.warn(`thinkscope: ${message} (${finalDir})`);
    progress.report?.({ message, done: 0, total: 1 });
    await rm(finalDir, { recursive: true, force: true });
  }

  await mkdir(cacheRoot, { recursive: true });
  const workDir = join(cacheRoot, `.${fingerprint}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  await mkdir(workDir);
  try {
    await buildOnThread({ dir: workDir, spec, options: weightOptions, tensors: [...source.tensors] }, source, progress);
    throwIfCancelled(progress.signal);
    try {
      await rename(workDir, finalDir);
    } catch (error) {
      // Another process finished the same build first: its result is identical.
      if (!(await exists(join(finalDir, CHECKSUMS_FILE)))) throw error;
      await rm(workDir, { recursive: true, force: true });
    }
    // A new version's first open of each model builds, so earlier versions' entries go then, not on every open.
    await removeEarlierVersions(cacheRoot, progress);
    return entry(true);
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The model file of the entry's graph with steering blocks at `kinds`, made over its weights table on
 * first use (a graph is a few hundred kilobytes; its weights stay in the one weights file). A file that
 * differs from what the table and the builder make now is written again.
 */
export async function graphFile(graph: CachedGraph, kinds: readonly HookKind[]): Promise<string> {
  const steered = STEERABLE_KINDS.filter((kind) => kinds.includes(kind));
  const table = JSON.parse(await readFile(join(graph.dir, WEIGHT_TABLE_FILE), 'utf8')) as TensorDef[];
  const bytes = encodeGraph(graph.spec, { ...graph.options, steeredKinds: steered }, table);
  const path = join(graph.dir, steered.length === 0 ? 'model.onnx' : `model.steered-${steered.join('+')}.onnx`);
  const existing = await readFile(path).catch(() => null);
  if (!existing?.equals(bytes)) await writeFileAtomically(path, bytes);
  return path;
}

/**
 * Writes the graph's weights on a thread of their own (graph-build-worker.ts), serving it the tensors it
 * asks for from `source`. Cancelling stops the thread at once.
 */
function buildOnThread(data: BuildThreadData, source: WeightSource, progress: Progress): Promise<void> {
  throwIfCancelled(progress.signal);
  const worker = startWorkerThread(__dirname, 'graph-build-worker', { workerData: data });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    // Settled once the thread has stopped: its memory is returned and its files closed before the caller goes on.
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      progress.signal?.removeEventListener('abort', cancel);
      void worker.terminate().then(() => (error ? reject(error) : resolve()));
    };
    const cancel = () => finish(new CancelledError());
    progress.signal?.addEventListener('abort', cancel);
    worker.on('message', (message: BuildThreadMessage) => {
      if (settled) return; // a message the thread sent before it was stopped
      if (message.type === 'read') sendTensor(worker, source, message).catch((error: Error) => finish(error));
      else if (message.type === 'progress') progress.report?.({ message: message.message, done: message.done, total: message.total });
      else if (message.type === 'done') finish();
      else finish(message.name === 'CheckpointError' ? new CheckpointError(message.message) : new Error(message.message));
    });
    worker.on('error', (error) => finish(new Error(`building the model graph stopped: ${error.message}`)));
    worker.on('exit', (code) => finish(new Error(`building the model graph stopped (its thread exited with code ${code})`)));
  });
}

/** Reads one tensor and moves its buffer to the build thread (copied first only when the array is a view of a larger buffer). */
async function sendTensor(worker: Worker, source: WeightSource, request: Extract<BuildThreadMessage, { type: 'read' }>): Promise<void> {
  const array = request.as === 'float32' ? await source.readFloat32(request.name) : await source.readBytes(request.name);
  const whole = array.byteOffset === 0 && array.byteLength === array.buffer.byteLength && array.buffer instanceof ArrayBuffer;
  const buffer = whole ? (array.buffer as ArrayBuffer) : new Uint8Array(array.buffer, array.byteOffset, array.byteLength).slice().buffer;
  const reply: ReadReply = { id: request.id, buffer };
  worker.postMessage(reply, [buffer]);
}
