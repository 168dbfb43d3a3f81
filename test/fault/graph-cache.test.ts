// The graph cache serves exactly the weights on disk: an in-place edit of any byte (same size, even
// with the modification time put back), or a second folder differing in one layer, gets its own graph;
// a damaged cache entry (flipped bytes, cut short) is built again with a message; partial folders of
// killed builds are removed, and a build removes the entries an earlier builder version wrote. Hostile
// checkpoints (NaN weights, a folder as weights file, shard links leading out, absurd sizes) get one
// clear message.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { GRAPH_BUILDER_VERSION } from '../../extension/engine/runtime/graph-build';
import { openSafetensors } from '../../extension/engine/checkpoint/safetensors';

const ids = [1, 17, 40, 2, 9];

async function logits(dir: string, cacheRoot: string, messages: string[] = []): Promise<{ logits: Float32Array; built: boolean }> {
  const model = await Model.open(dir, { cacheRoot, threads: 1, report: (p) => messages.push(p.message) });
  try {
    return { logits: (await model.session.forward({ ids, logits: 'all' })).logits, built: model.built };
  } finally {
    await model.close();
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);
}

/** Rewrites one tensor's bytes in place (same size): every value negated. */
async function negateTensor(file: string, name: string): Promise<void> {
  const weights = await openSafetensors(file);
  const info = weights.tensors.get(name)!;
  const values = await weights.readFloat32(name);
  await weights.close();
  assert.equal(info.dtype, 'F32');
  const handle = await open(file, 'r+');
  await handle.write(new Uint8Array(values.map((v) => -v).buffer), 0, info.byteLength, info.byteOffset);
  await handle.close();
}

describe('graph cache identity and integrity', () => {
  let work: string;
  let model: string;
  let cache: string;
  let original: Float32Array;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'fault-cache-'));
    model = join(work, 'model');
    cache = join(work, 'cache');
    await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: model, seed: 11 });
    ({ logits: original } = await logits(model, cache));
  });

  after(() => rm(work, { recursive: true, force: true }));

  it('a checkpoint edited in place after its first open (same size, time put back) gets a graph of its new weights', async () => {
    const edited = join(work, 'edited');
    await cp(model, edited, { recursive: true });
    const file = join(edited, 'model.safetensors');
    const before = await logits(edited, cache);
    assert.equal(before.built, false, 'a byte-identical copy reuses the graph');
    const { size, atime, mtime } = await stat(file);
    await negateTensor(file, 'model.layers.2.mlp.down_proj.weight');
    await utimes(file, atime, mtime);
    assert.equal((await stat(file)).size, size);
    const after = await logits(edited, cache);
    assert.equal(after.built, true, 'the old graph was reused for edited weights');
    const fresh = await logits(edited, join(work, 'fresh-cache'));
    assert.deepEqual(after.logits, fresh.logits, 'the logits are those of the edited weights');
    assert.ok(maxDifference(after.logits, original) > 1e-3);
  });

  it('a second folder that differs in one layer gets its own graph', async () => {
    const other = join(work, 'one-layer');
    await cp(model, other, { recursive: true });
    await negateTensor(join(other, 'model.safetensors'), 'model.layers.0.self_attn.o_proj.weight');
    const result = await logits(other, cache);
    assert.equal(result.built, true);
    assert.ok(maxDifference(result.logits, original) > 1e-3);
  });

  it('flipped bytes in the cached weights are found and the graph built again, with a message', async () => {
    const [entry] = (await readdir(cache)).filter((name) => !name.startsWith('.'));
    const cached = join(cache, (await readdir(cache)).find((name) => !name.startsWith('.') && name === entry)!);
    for (const name of (await readdir(cache)).filter((n) => !n.startsWith('.'))) {
      const weights = join(cache, name, 'weights.bin');
      const handle = await open(weights, 'r+');
      const { size } = await handle.stat();
      const byte = Buffer.alloc(1);
      await handle.read(byte, 0, 1, Math.floor(size / 2));
      byte[0] ^= 0x10;
      await handle.write(byte, 0, 1, Math.floor(size / 2));
      await handle.close();
    }
    assert.ok(cached);
    const messages: string[] = [];
    const result = await logits(model, cache, messages);
    assert.equal(result.built, true);
    assert.ok(messages.some((m) => /cached graph of this model is damaged \(weights\.bin does not match the checksum written with it\): building it again/.test(m)), messages.join('\n'));
    assert.deepEqual(result.logits, original);
  });

  it('a cached weights file cut short is built again, never handed to onnxruntime', async () => {
    for (const name of (await readdir(cache)).filter((n) => !n.startsWith('.'))) await truncate(join(cache, name, 'weights.bin'), 1000);
    const messages: string[] = [];
    const result = await logits(model, cache, messages);
    assert.ok(messages.some((m) => /weights\.bin has 1000 bytes, \d+ were written/.test(m)), messages.join('\n'));
    assert.deepEqual(result.logits, original);
  });

  it('partial folders of builds whose process is gone are removed on the next open', async () => {
    const stale = join(cache, `.${'ab'.repeat(16)}.999999.deadbeef.partial`);
    await mkdir(stale);
    await writeFile(join(stale, 'weights.bin'), Buffer.alloc(4096));
    const live = join(cache, `.${'cd'.repeat(16)}.${process.pid}.deadbeef.partial`);
    await mkdir(live);
    await logits(model, cache);
    await assert.rejects(stat(stale), 'a stale partial folder was left');
    assert.ok((await stat(live)).isDirectory(), "a running build's folder was removed");
    await rm(live, { recursive: true });
  });

  it("entries an earlier builder version wrote are removed by the next build, with a message; a later version's, the current ones and other folders are kept", async () => {
    const current = (await readdir(cache)).filter((name) => /^[0-9a-f]{32}$/.test(name));
    const folder = async (name: string, checksums: object) => {
      const dir = join(cache, name);
      await mkdir(dir);
      await writeFile(join(dir, 'weights.bin'), Buffer.alloc(3 << 20));
      await writeFile(join(dir, 'checksums.json'), JSON.stringify({ ...checksums, files: {}, checked: {} }));
      return dir;
    };
    const unversioned = await folder('01'.repeat(16), {});
    const earlier = await folder('02'.repeat(16), { builder: GRAPH_BUILDER_VERSION - 1 });
    const later = await folder('03'.repeat(16), { builder: GRAPH_BUILDER_VERSION + 1 });
    const foreign = await folder('not-an-entry', {});
    const cacheHit: string[] = [];
    assert.equal((await logits(model, cache, cacheHit)).built, false);
    assert.ok((await stat(earlier)).isDirectory(), 'an open that built nothing scanned the cache');
    const changed = join(work, 'prune-build');
    await cp(model, changed, { recursive: true });
    await negateTensor(join(changed, 'model.safetensors'), 'model.layers.1.mlp.up_proj.weight');
    const messages: string[] = [];
    assert.equal((await logits(changed, cache, messages)).built, true);
    await assert.rejects(stat(unversioned), 'an entry without a builder version was left');
    await assert.rejects(stat(earlier), "an earlier version's entry was left");
    assert.ok((await stat(later)).isDirectory(), "a later version's entry was removed");
    assert.ok((await stat(foreign)).isDirectory(), 'a folder that is not an entry was removed');
    for (const name of current) assert.ok((await stat(join(cache, name))).isDirectory(), "the current version's entry was removed");
    assert.equal((await logits(model, cache)).built, false, "the current version's entry was removed");
    assert.ok(messages.includes('removed 2 cached model graphs of an earlier ThinkScope version, 6 MiB freed'), messages.join('\n'));
    await rm(later, { recursive: true });
    await rm(foreign, { recursive: true });
  });

  it('a first open cancelled while its graph is built leaves no entry, no partial folder and no open file; the next open builds it', async () => {
    const fresh = join(work, 'cancel-cache');
    const controller = new AbortController();
    const opening = Model.open(model, {
      cacheRoot: fresh,
      threads: 1,
      signal: controller.signal,
      report: (p) => {
        if (p.message.startsWith('building the model graph')) controller.abort();
      },
    });
    await assert.rejects(opening, CancelledError);
    assert.deepEqual((await readdir(fresh)).filter((name) => name !== '.file-hashes'), [], 'the cancelled build left files in the cache');
    // The descriptor readdir itself used is gone by the time its entry is read.
    const openFiles = (await readdir('/proc/self/fd')).map((fd) => readlink(join('/proc/self/fd', fd)).catch(() => ''));
    const paths = await Promise.all(openFiles);
    assert.deepEqual(paths.filter((path) => path.startsWith(fresh)), [], 'a file of the cancelled build is still open');
    const reopened = await logits(model, fresh);
    assert.equal(reopened.built, true);
    assert.deepEqual(reopened.logits, original);
  });

  it('NaN or infinite weights are refused with the tensor and element where they first appear', async () => {
    const broken = join(work, 'nan');
    await cp(model, broken, { recursive: true });
    const file = join(broken, 'model.safetensors');
    const weights = await openSafetensors(file);
    const info = weights.tensors.get('model.layers.1.mlp.up_proj.weight')!;
    await weights.close();
    const handle = await open(file, 'r+');
    await handle.write(new Uint8Array(new Float32Array([Number.NaN]).buffer), 0, 4, info.byteOffset + 4 * (info.shape[1] * 3 + 5));
    await handle.close();
    await assert.rejects(logits(broken, cache), /NaN or infinite value: model\.layers\.1\.mlp\.up_proj\.weight at row 3, column 5/);
  });

  it('activations that overflow to infinity are reported with the first layer where they do', async () => {
    const overflowing = join(work, 'overflow');
    await cp(model, overflowing, { recursive: true });
    const file = join(overflowing, 'model.safetensors');
    const weights = await openSafetensors(file);
    const info = weights.tensors.get('model.layers.2.mlp.down_proj.weight')!;
    await weights.close();
    const handle = await open(file, 'r+');
    await handle.write(new Uint8Array(new Float32Array(info.byteLength / 4).fill(3e38).buffer), 0, info.byteLength, info.byteOffset);
    await handle.close();
    const opened = await Model.open(overflowing, { cacheRoot: cache, threads: 1 });
    try {
      await assert.rejects(opened.session.forward({ ids, logits: 'all' }), /activations hold NaN or an infinite value, first at the output of layer 2, token 0 of this input/);
    } finally {
      await opened.close();
    }
  });

  it('a folder in place of the weights file, a shard link leading out of the folder and absurd sizes get one clear message', async () => {
    const folder = join(work, 'folder-weights');
    await cp(model, folder, { recursive: true });
    await rm(join(folder, 'model.safetensors'));
    await mkdir(join(folder, 'model.safetensors'));
    await assert.rejects(Model.open(folder, { cacheRoot: cache }), /model\.safetensors is a folder; expected a \.safetensors weights file/);

    const linked = join(work, 'linked');
    await mkdir(linked);
    for (const name of await readdir(model)) if (name !== 'model.safetensors') await cp(join(model, name), join(linked, name));
    await symlink(join(model, 'model.safetensors'), join(linked, 'model.safetensors'));
    await assert.rejects(Model.open(linked, { cacheRoot: cache }), /model\.safetensors is a link to .*, outside the model folder/);

    // The Hugging Face hub cache links each snapshot's files into the repository's blobs: accepted.
    const repo = join(work, 'models--org--tiny');
    await mkdir(join(repo, 'blobs'), { recursive: true });
    await mkdir(join(repo, 'snapshots', 'abc123'), { recursive: true });
    for (const name of await readdir(model)) {
      await cp(join(model, name), join(repo, 'blobs', name));
      await symlink(join('..', '..', 'blobs', name), join(repo, 'snapshots', 'abc123', name));
    }
    assert.deepEqual((await logits(join(repo, 'snapshots', 'abc123'), cache)).logits, original);

    const huge = join(work, 'huge');
    await cp(model, huge, { recursive: true });
    const config = JSON.parse(await readFile(join(huge, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(huge, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 10_000_000 }));
    await assert.rejects(Model.open(huge, { cacheRoot: cache }), /num_hidden_layers is 10000000, more than any model has \(at most 1024/);
  });
});
