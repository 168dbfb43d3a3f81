// The engine's protocol end to end on a tiny model: two RpcConnections wired back to back, the real
// EngineService behind one of them — what the extension does over the engine process's stdio.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcConnection } from '../../extension/common/rpc';
import { ErrorCodes, PROTOCOL_VERSION, RemoteError, type EngineNotifications } from '../../extension/common/protocol';
import { EngineService } from '../../extension/engine/server/engine-service';
import { analysisBackend } from '../../extension/engine/server/analysis-backend';
import { makeModel } from '../../extension/engine/make-model/make-model';

const work = mkdtempSync(join(tmpdir(), 'thinkscope-service-'));
process.env.THINKSCOPE_CACHE = join(work, 'cache');
const sample = readFileSync(join(__dirname, '..', 'fixtures', 'sample-trace.md'), 'utf8');
let client: RpcConnection;
let service: EngineService;
const notifications: { method: string; params: unknown }[] = [];

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: join(work, 'model'), seed: 5 });
  service = new EngineService(analysisBackend);
  // Each side's writes are delivered to the other asynchronously, as a pipe would.
  const server: RpcConnection = new RpcConnection((line) => setImmediate(() => client.receive(line)));
  client = new RpcConnection((line) => setImmediate(() => server.receive(line)));
  server.onRequest((method, params, context) => service.handle(method, params, context));
  client.onNotification((method, params) => notifications.push({ method, params }));
});

after(async () => {
  await service.dispose();
  rmSync(work, { recursive: true, force: true });
});

test('a request before any model is loaded says to select a model', async () => {
  await assert.rejects(client.request('generate', { prompt: 'hi', steering: [], compare: false, maxTokens: 2 }), (error: RemoteError) => {
    assert.equal(error.code, ErrorCodes.noModel);
    assert.match(error.message, /select a model/);
    return true;
  });
});

test('loadModel reports the model and its first-open build progress', async () => {
  notifications.length = 0;
  const info = await client.request('loadModel', { path: join(work, 'model') });
  assert.equal(info.architecture, 'qwen2');
  assert.equal(info.numLayers, 4);
  assert.equal(info.built, true);
  assert.ok(notifications.some((n) => n.method === 'progress' && /building the model graph/.test((n.params as EngineNotifications['progress']).message)));
});

test('a folder that is not a model gets one clear message and keeps the loaded model', async () => {
  await assert.rejects(client.request('loadModel', { path: join(work, 'nowhere') }), /not a folder|no such|does not exist/i);
  const reply = await client.request('generate', { prompt: 'What is 2 + 2?', steering: [], compare: false, maxTokens: 3 });
  assert.equal(typeof reply.steered, 'string');
});

test('analyzeTrace streams complete snapshots as steps are scored, then returns the trace file', async () => {
  notifications.length = 0;
  const file = await client.request('analyzeTrace', { text: sample, fileName: 'sample-trace.md', segmentation: 'paragraph', tts: true, seal: true, persona: false });
  assert.equal(file.steps.length, 24);
  assert.ok(file.steps.every((s) => s.sealClass !== null));
  assert.ok(file.steps.filter((s) => s.perturbable).every((s) => s.tts !== null && s.s11 !== null));
  const snapshots = notifications.filter((n) => n.method === 'analysisSnapshot').map((n) => (n.params as EngineNotifications['analysisSnapshot']).file);
  assert.ok(snapshots.length >= 24, `one snapshot per scored step at least, got ${snapshots.length}`);
  const scoredCounts = snapshots.map((f) => f.steps.filter((s) => s.tts !== null).length);
  assert.ok(scoredCounts.every((n, i) => i === 0 || n >= scoredCounts[i - 1]), 'snapshots only ever add scores');
  assert.ok(snapshots.every((f) => f.steps.length === 24), 'every snapshot is complete: all steps, scored or not');
  assert.ok(snapshots[0].steps.every((s) => s.sealClass !== null && s.tts === null), 'keyword classes come with the first snapshot, before any score');
});

test('generate with compare streams both replies and aligns their steps', async () => {
  notifications.length = 0;
  const result = await client.request('generate', { prompt: 'What is 3 + 4?', steering: [], compare: true, maxTokens: 12 });
  const streams = new Set(notifications.filter((n) => n.method === 'replySnapshot').map((n) => (n.params as EngineNotifications['replySnapshot']).stream));
  assert.deepEqual([...streams].sort(), ['baseline', 'steered']);
  assert.ok(result.comparison);
  assert.equal(result.baseline, result.steered, 'with no steering the two greedy replies are the same');
});

test('a cancelled analysis stops and the engine answers the next request', async () => {
  const controller = new AbortController();
  notifications.length = 0;
  const stop = client.onNotification((method) => {
    if (method === 'analysisSnapshot') controller.abort();
  });
  await assert.rejects(
    client.request('analyzeTrace', { text: sample, fileName: 'sample-trace.md', segmentation: 'sentence', tts: true, seal: false, persona: false }, controller.signal),
    (error: RemoteError) => error.code === ErrorCodes.cancelled,
  );
  stop();
  const snapshots = notifications.filter((n) => n.method === 'analysisSnapshot').length;
  assert.ok(snapshots < 10, `stopped within a step or two of the cancel (${snapshots} snapshots)`);
  const info = await client.request('initialize', { client: 'test', protocol: PROTOCOL_VERSION });
  assert.equal(info.protocol, PROTOCOL_VERSION);
});
