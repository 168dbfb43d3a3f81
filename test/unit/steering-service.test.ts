// Each steering method's rule, through the engine service exactly as the Steering panel, Steer Reply…
// and Steer this step send it: which layers and which positions the run actually changed, read from
// the residual stream of every forward with and without the steering.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIRECTION_SCHEMA_ID, type Direction, type DirectionMethod } from '../../extension/common/direction';
import type { GenerateParams, RequestMethod, SteeringChoice } from '../../extension/common/protocol';
import type { RequestContext } from '../../extension/common/rpc';
import { EngineService } from '../../extension/engine/server/engine-service';
import { analysisBackend } from '../../extension/engine/server/analysis-backend';
import { requestCheck } from '../../extension/engine/server/request-check';
import { saveDirection } from '../../extension/engine/directions/store';
import { DecoderSession } from '../../extension/engine/runtime/decoder-session';
import type { KvCache } from '../../extension/engine/runtime/kv-cache';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { chatPromptIds } from '../../extension/engine/chat-prompt';
import { CONSTANT_DIMENSION, makeCycleModel } from '../support/cycle-model';

const LAYERS = 4;
const H = 64;
const HOOKS = Array.from({ length: LAYERS + 1 }, (_, l) => (l < LAYERS ? `blocks.${l}.hook_resid_pre` : `blocks.${LAYERS - 1}.hook_resid_post`));
const work = mkdtempSync(join(tmpdir(), 'thinkscope-steering-service-'));
process.env.THINKSCOPE_CACHE = join(work, 'cache');
const modelDir = join(work, 'model');
let service: EngineService;
let tokenizer: TextTokenizer;

/** Every pass through the graph the service runs, with the residual stream entering each layer (and leaving the last). */
interface Recorded {
  ids: number[];
  past: number;
  steered: boolean;
  residual: Float32Array[];
}
let recorded: Recorded[] = [];
// Every forward, batched or not, goes through the session's one run of the graph; the recording adds captures to it.
type Run = (request: { ids: ArrayLike<number>; steering?: unknown; capture?: readonly string[] }, cache: KvCache, ...rest: unknown[]) => Promise<{ captures: Map<string, Float32Array> }>;
const session = DecoderSession.prototype as unknown as { run: Run };
const run = session.run;

before(async () => {
  // Thinking: "x", a blank line, "y", then </think>; after it the same tokens again, unsteerable by SEAL.
  await makeCycleModel(modelDir, ['x', '\n\n', 'y', '</think>']);
  tokenizer = await TextTokenizer.fromFolder(modelDir);
  session.run = async function (this: DecoderSession, request, cache, ...rest) {
    const result = await run.call(this, { ...request, capture: [...new Set([...(request.capture ?? []), ...HOOKS])] }, cache, ...rest);
    recorded.push({ ids: Array.from(request.ids), past: cache.length, steered: request.steering !== undefined, residual: HOOKS.map((h) => result.captures.get(h)!) });
    return result;
  };
  service = new EngineService(analysisBackend);
  await call('loadModel', { path: modelDir });
});

after(async () => {
  session.run = run;
  await service.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** A request as the engine's transport takes it: checked against the protocol's schemas, then handled. */
const check = requestCheck(null);
function call<M extends RequestMethod>(method: M, params: unknown, notify: RequestContext['notify'] = () => undefined): Promise<never> {
  const refused = check(method, params);
  if (refused) return Promise.reject(refused);
  const context: RequestContext = { id: 1, signal: new AbortController().signal, notify };
  return service.handle(method, params, context) as Promise<never>;
}

/** A direction file of one kind whose vectors lie on dimensions the model never reads. */
async function direction(name: string, method: DirectionMethod, details: Record<string, unknown> = {}): Promise<{ path: string; vectors: Float32Array[] }> {
  const vectors = Array.from({ length: LAYERS }, (_, l) => Float32Array.from({ length: H }, (_, i) => (i >= 40 && i < CONSTANT_DIMENSION ? Math.sin(7 * i + l) : 0)));
  const hook = method === 'assistant-axis' ? 'hook_resid_post' : 'hook_resid_pre';
  const meta: Direction['meta'] = { schema: DIRECTION_SCHEMA_ID, name, method, hook, layers: [0, 1, 2, 3], hiddenSize: H, model: null, counts: {}, signConvention: '', createdAt: '', details };
  const path = join(work, name);
  await saveDirection(path, { meta, vectors, companions: {} });
  return { path, vectors };
}

/** The residual stream at every absolute position of a stream of forwards (prompt pass, then one per token). */
function stream(calls: Recorded[]): { ids: number[]; residual: Float32Array[][] } {
  const ids: number[] = [];
  const residual: Float32Array[][] = HOOKS.map(() => []);
  for (const c of calls) {
    assert.equal(c.past, ids.length, 'one stream: each forward continues the last');
    c.ids.forEach((id, t) => {
      ids.push(id);
      HOOKS.forEach((_, k) => residual[k].push(c.residual[k].slice(t * H, (t + 1) * H)));
    });
  }
  return { ids, residual };
}

/** Generates a reply through the service with and without the steering; returns the changed positions per hook and the edits. */
async function changes(steering: SteeringChoice[]): Promise<{ ids: number[]; promptLength: number; changed: Map<number, number[]>; delta: (k: number, p: number) => Float32Array; applied: string[] }> {
  const reply = async (choices: SteeringChoice[]) => {
    recorded = [];
    const params: GenerateParams = { prompt: 'Count.', steering: choices, compare: false, maxTokens: 8 };
    const result = (await call('generate', params)) as { steered: string; applied: string[] };
    return { result, stream: stream(recorded) };
  };
  const { stream: baseline, result: plain } = await reply([]);
  const { stream: steered, result } = await reply(steering);
  assert.equal(result.steered, plain.steered, 'the steering vectors lie off the dimensions the model reads, so the tokens stay the same');
  assert.deepEqual(steered.ids, baseline.ids);
  const delta = (k: number, p: number) => steered.residual[k][p].map((x, i) => x - baseline.residual[k][p][i]);
  const changed = new Map<number, number[]>();
  HOOKS.forEach((_, k) => changed.set(k, baseline.ids.map((_, p) => p).filter((p) => delta(k, p).some((d) => Math.abs(d) > 1e-4))));
  return { ids: baseline.ids, promptLength: chatPromptIds(tokenizer, [{ role: 'user', content: 'Count.' }]).length, changed, delta, applied: result.applied };
}

test('the first steered reply says, before its first token, that the engine adds steering blocks; later replies go straight to tokens', async () => {
  const custom = await direction('first', 'custom');
  const notifications = async () => {
    const seen: string[] = [];
    const params: GenerateParams = { prompt: 'Count.', steering: [{ direction: custom.path, method: 'add', strength: 1, layers: [1] }], compare: true, maxTokens: 2 };
    await call('generate', params, (method, data) => seen.push(method === 'progress' ? `progress: ${(data as { message: string }).message}` : method));
    return seen;
  };
  const first = await notifications();
  assert.match(first[0], /^progress: adding steering blocks at every layer's hook_resid_post \(once per loaded model\)$/);
  assert.deepEqual(new Set(first.slice(1)), new Set(['replySnapshot']));
  assert.deepEqual(new Set(await notifications()), new Set(['replySnapshot']));
});

test('SEAL calibration (the panel\'s "Less reflection") changes only the "\\n\\n" tokens generated inside <think>, at the SEAL layer and after, by −c·v', async () => {
  const seal = await direction('seal', 'seal', { layer: 2 });
  const c = 1.5;
  const { ids, promptLength, changed, delta, applied } = await changes([{ direction: seal.path, method: 'calibrate', strength: c }]);
  const blank = tokenizer.encode('\n\n')[0];
  const close = ids.indexOf(tokenizer.thinkEndId!);
  const inThinking = ids.map((_, p) => p).filter((p) => p >= promptLength && p < close && ids[p] === blank);
  const afterThinking = ids.map((_, p) => p).filter((p) => p > close && ids[p] === blank);
  assert.equal(inThinking.length, 1, 'the reply has one blank line while thinking');
  assert.ok(afterThinking.length >= 1, 'and at least one after </think>, which must stay untouched');
  for (let k = 0; k < HOOKS.length; k++) assert.deepEqual(changed.get(k), k < 2 ? [] : inThinking, `${HOOKS[k]}`);
  const edit = delta(2, inThinking[0]);
  seal.vectors[2].forEach((v, i) => assert.ok(Math.abs(edit[i] + c * v) < 1e-4, `dimension ${i}: −c·v`));
  const compared = (await call('generate', { prompt: 'Count.', steering: [{ direction: seal.path, method: 'calibrate', strength: c }], compare: true, maxTokens: 8 })) as { baseline: string; steered: string };
  assert.equal(compared.steered, compared.baseline, 'decoded side by side with the baseline (a batch of two), the same rule applies');
  assert.match(applied[0], /^seal: h − 1\.5·v \(SEAL calibration, c = 1\.5\) at hook_resid_pre of layer 2, at the "\\n\\n" step-boundary tokens/);
});

test('the generic "add at every position" changes the prompt and the reply at each of its layers', async () => {
  const custom = await direction('custom', 'custom');
  const { ids, changed, applied } = await changes([{ direction: custom.path, method: 'add', strength: 1, layers: [1] }]);
  assert.deepEqual(changed.get(0), []);
  for (let k = 1; k < HOOKS.length; k++) assert.deepEqual(changed.get(k), ids.map((_, p) => p), `${HOOKS[k]}: every position`);
  assert.match(applied[0], /added at every position\) at hook_resid_pre of layer 1, at every position, prompt and reply/);
});

test('Assistant-Axis capping (the panel\'s "Stay in persona") lifts every position below τ to τ, at the capping layers only', async () => {
  const axis = await direction('axis', 'assistant-axis', { capLayers: [2], floors: [0, 0, 5, 0] });
  const { ids, changed, delta } = await changes([{ direction: axis.path, method: 'cap', strength: 0 }]);
  // hook_resid_post of layer 2 is the residual entering layer 3 (HOOKS index 3).
  for (let k = 0; k < HOOKS.length; k++) assert.deepEqual(changed.get(k), k < 3 ? [] : ids.map((_, p) => p), `${HOOKS[k]}`);
  const v = axis.vectors[2];
  const norm = Math.hypot(...v);
  for (let p = 0; p < ids.length; p++) {
    const lift = delta(3, p);
    // The residual projects to 0 on the axis (it lives on other dimensions), so each position is lifted by exactly τ along v̂.
    v.forEach((x, i) => assert.ok(Math.abs(lift[i] - (5 * x) / norm) < 1e-4, `position ${p}, dimension ${i}`));
  }
});

test('Steer this step pushes exactly the step\'s tokens in the prompt pass at one layer, and runs a random direction of the same norm beside it', async () => {
  const tt = await direction('tt', 'truethinking');
  const text = '<think>\nFirst, 2 plus 3 is 5.\n\nThen 5 times 2 is 10.\n</think>\n\nThe answer is \\boxed{10}.';
  recorded = [];
  const result = await call('steerStep', { text, fileName: 'trace.md', segmentation: 'paragraph', step: 1, direction: tt.path, layer: 2, scale: 1 }) as { after: unknown; control: { tts: number } };
  assert.ok(result.control && Number.isFinite(result.control.tts));
  // Each prompt is scored unsteered, steered along the direction and steered along the control, in that order.
  const runs = recorded.filter((r) => r.past === 0);
  assert.equal(runs.length, 12, 'four variants × (unsteered, direction, control)');
  const stepTokens = tokenizer.encode('Then 5 times 2 is 10.').length;
  for (let n = 0; n < 4; n++) {
    const [plain, along, control] = runs.slice(3 * n, 3 * n + 3);
    assert.deepEqual(along.ids, plain.ids);
    assert.ok(!plain.steered && along.steered && control.steered);
    for (const [run, what] of [[along, 'direction'], [control, 'control']] as const) {
      const positions = (k: number) => plain.ids.map((_, p) => p).filter((p) => Array.from({ length: H }, (_, i) => run.residual[k][p * H + i] - plain.residual[k][p * H + i]).some((d) => Math.abs(d) > 1e-4));
      assert.deepEqual(positions(1), [], `${what}: nothing changes before layer 2`);
      const span = positions(2);
      assert.ok(span.length >= stepTokens - 1 && span.length <= stepTokens + 2, `${what}: the step's tokens (${span.length} vs ${stepTokens})`);
      assert.deepEqual(span, Array.from({ length: span.length }, (_, i) => span[0] + i), `${what}: one contiguous span`);
      assert.ok(span.at(-1)! < plain.ids.length - tokenizer.encode('\n The final answer is \\boxed{').length - 1, `${what}: the cue and answer are not pushed`);
    }
    const edit = (run: Recorded, p: number) => Array.from({ length: H }, (_, i) => run.residual[2][p * H + i] - plain.residual[2][p * H + i]);
    const first = plain.ids.map((_, q) => q).find((q) => edit(along, q).some((d) => Math.abs(d) > 1e-4))!;
    const real = edit(along, first);
    const random = edit(control, first);
    tt.vectors[2].forEach((v, i) => assert.ok(Math.abs(real[i] - v) < 1e-4, 'along the direction: +1·v'));
    assert.ok(Math.abs(Math.hypot(...random) - Math.hypot(...real)) < 1e-3 * Math.hypot(...real), 'the control has the same norm');
    assert.ok(Math.abs(real.reduce((s, x, i) => s + x * random[i], 0)) < 0.5 * Math.hypot(...real) ** 2, 'and another direction');
  }
});
