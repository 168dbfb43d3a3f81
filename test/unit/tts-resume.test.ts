// A cancelled True Thinking run goes on where it stopped, through the engine service (what VS Code
// does) and the CLI, on the bundled trained reasoner: the resumed run's trace file equals an
// uninterrupted run's exactly, and steps kept for other inputs are never used.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcConnection } from '../../extension/common/rpc';
import { ErrorCodes, RemoteError, type AnalyzeParams, type EngineNotifications, type TtsResumeEvent } from '../../extension/common/protocol';
import type { TraceFile } from '../../extension/common/bundle/trace-file';
import { EngineService } from '../../extension/engine/server/engine-service';
import { analysisBackend } from '../../extension/engine/server/analysis-backend';
import { runCommand } from '../../extension/cli/command';
import { analyzeCommand } from '../../extension/cli/commands/analyze';
import { CancelledError } from '../../extension/engine/runtime/progress';

const REPO = join(__dirname, '..', '..');
const MODEL = join(REPO, 'media', 'models', 'thinkscope-reasoner');
const TRACE = readFileSync(join(REPO, 'media', 'samples', 'reasoner-trace.md'), 'utf8');
/** At 1 MiB the reasoner answers the sample's 7 steps in packs ending at steps 2, 3, 5, 6 and 7. */
const SMALL_BUDGET_MIB = 1;

const work = mkdtempSync(join(tmpdir(), 'thinkscope-resume-'));
const cacheSetting = process.env.THINKSCOPE_CACHE;
process.env.THINKSCOPE_CACHE = join(work, 'cache');
let client: RpcConnection;
let service: EngineService;
const notifications: { method: string; params: unknown }[] = [];

before(async () => {
  service = new EngineService(analysisBackend);
  // Lines are delivered at once, so a cancel sent when a pack is kept reaches the engine before its next step.
  const server: RpcConnection = new RpcConnection((line) => client.receive(line));
  client = new RpcConnection((line) => server.receive(line));
  server.onRequest((method, params, context) => service.handle(method, params, context));
  client.onNotification((method, params) => notifications.push({ method, params }));
  await loadModel(SMALL_BUDGET_MIB);
});

after(async () => {
  await service.dispose();
  if (cacheSetting === undefined) delete process.env.THINKSCOPE_CACHE;
  else process.env.THINKSCOPE_CACHE = cacheSetting;
  rmSync(work, { recursive: true, force: true });
});

function loadModel(memoryBudgetMib: number, precision: 'fp32' | 'int8' = 'fp32') {
  return client.request('loadModel', { path: MODEL, threads: 1, memoryBudgetMib, precision });
}

function params(extra: Partial<AnalyzeParams> = {}): AnalyzeParams {
  return { text: TRACE, fileName: 'reasoner-trace.md', document: 'file:///work/reasoner-trace.md', segmentation: 'paragraph', tts: true, seal: false, persona: false, ...extra };
}

/** A trace file without the time it was written. */
function scored(file: TraceFile | null): Omit<TraceFile, 'createdAt'> | null {
  if (!file) return null;
  const { createdAt: _, ...rest } = file;
  return rest;
}

interface Run {
  file: TraceFile | null;
  events: TtsResumeEvent[];
  /** done of every "True Thinking Score" progress update after the trace is read, and the first such message. */
  steps: number[];
  firstStep: string | undefined;
}

/** One analyzeTrace request; `cancelAfterPacks` cancels it once that many packs of steps are kept. */
async function analyze(request: AnalyzeParams, cancelAfterPacks?: number): Promise<Run> {
  notifications.length = 0;
  const controller = new AbortController();
  let packs = 0;
  const stop = client.onNotification((method, update) => {
    const { event } = update as EngineNotifications['ttsResume'];
    if (method === 'ttsResume' && event.kind === 'kept' && ++packs === cancelAfterPacks) controller.abort();
  });
  let file: TraceFile | null = null;
  try {
    file = await client.request('analyzeTrace', request, controller.signal);
    assert.equal(cancelAfterPacks, undefined, 'the run ended before it was cancelled');
  } catch (error) {
    if (!(error instanceof RemoteError && error.code === ErrorCodes.cancelled && cancelAfterPacks !== undefined)) throw error;
  } finally {
    stop();
  }
  const progress = notifications.filter((n) => n.method === 'progress').map((n) => n.params as EngineNotifications['progress']);
  const steps = progress.filter((p) => /^True Thinking Score: (step|resuming|all)/.test(p.message));
  return {
    file,
    events: notifications.filter((n) => n.method === 'ttsResume').map((n) => (n.params as EngineNotifications['ttsResume']).event),
    steps: steps.map((p) => p.done),
    firstStep: steps[0]?.message,
  };
}

const resumedOrStartedOver = (events: TtsResumeEvent[]) => events.filter((e) => e.kind !== 'kept');

describe('resuming a cancelled True Thinking run through the engine service', () => {
  let reference: TraceFile;

  before(async () => {
    const uninterrupted = await analyze(params({ document: 'uninterrupted' }));
    reference = uninterrupted.file!;
    assert.deepEqual(uninterrupted.steps, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(
      uninterrupted.events.map((e) => e.kind === 'kept' && e.kept),
      [2, 3, 5, 6, 7],
      'the steps are kept after every pack',
    );
  });

  it('goes on at the step after the last pack the cancelled run finished, and ends with the uninterrupted run\'s trace file', async () => {
    const cancelled = await analyze(params(), 1);
    assert.equal(cancelled.file, null);
    assert.deepEqual(cancelled.events, [{ kind: 'kept', kept: 2, total: 7 }]);

    const resumed = await analyze(params());
    assert.deepEqual(resumedOrStartedOver(resumed.events), [{ kind: 'resumed', kept: 2, total: 7 }]);
    assert.equal(resumed.firstStep, 'True Thinking Score: resuming at step 3 of 7');
    assert.deepEqual(resumed.steps, [2, 3, 4, 5, 6, 7], 'progress starts at step 3 of 7');
    assert.deepEqual(scored(resumed.file), scored(reference));

    const again = await analyze(params());
    assert.deepEqual(resumedOrStartedOver(again.events), [], 'a completed run keeps nothing to resume');
    assert.deepEqual(again.steps, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps a small file however long the document\'s name is, and resumes by that name', async () => {
    const kept = join(work, 'cache', '.tts-resume');
    const document = `file:///${'very-long-name/'.repeat(70_000)}trace.md`;
    const cancelled = await analyze(params({ document }), 1);
    assert.deepEqual(cancelled.events, [{ kind: 'kept', kept: 2, total: 7 }]);
    const sizes = readdirSync(kept).map((name) => readFileSync(join(kept, name), 'utf8').length);
    assert.ok(Math.max(...sizes) < 64 * 1024, `a kept file holds ${Math.max(...sizes)} characters`);
    const resumed = await analyze(params({ document }));
    assert.deepEqual(resumedOrStartedOver(resumed.events), [{ kind: 'resumed', kept: 2, total: 7 }]);
    assert.deepEqual(scored(resumed.file), scored(reference));
  });

  it('keeps nothing for a request that names no document (a generated reply being scored)', async () => {
    const kept = join(work, 'cache', '.tts-resume');
    const before = readdirSync(kept).length;
    const { document: _, ...unnamed } = params();
    const run = await analyze(unnamed);
    assert.deepEqual(run.events, [], 'no step is kept or resumed');
    assert.deepEqual(scored(run.file), scored(reference));
    assert.equal(readdirSync(kept).length, before, 'no kept file was written');
  });

  it('resumes a run cancelled later, after the engine reloaded the model with another memory budget, in the packs of the first run', async () => {
    await analyze(params(), 3);
    await loadModel(0);
    try {
      const resumed = await analyze(params());
      assert.deepEqual(resumedOrStartedOver(resumed.events), [{ kind: 'resumed', kept: 5, total: 7 }]);
      assert.deepEqual(scored(resumed.file), scored(reference));
    } finally {
      await loadModel(SMALL_BUDGET_MIB);
    }
  });

  it('never uses steps kept for other inputs: a changed trace, option or model scores every step again and says why', async () => {
    const edited = TRACE.replace('26 - 6 = 27', '26 - 6 = 28');
    assert.notEqual(edited, TRACE);
    const changes: { change: Partial<AnalyzeParams>; reason: RegExp }[] = [
      { change: { text: edited }, reason: /^the trace changed since the cancelled run$/ },
      { change: { seed: 7 }, reason: /^the perturbation seed changed since the cancelled run$/ },
      { change: { answer: '73' }, reason: /^the answer scored changed since the cancelled run$/ },
      { change: { segmentation: 'sentence' }, reason: /^the segmentation changed since the cancelled run$/ },
    ];
    for (const { change, reason } of changes) {
      await analyze(params(), 1);
      const changed = await analyze(params(change));
      const said = resumedOrStartedOver(changed.events);
      assert.equal(said.length, 1, JSON.stringify(said));
      assert.equal(said[0].kind, 'startedOver');
      assert.match((said[0] as { reason: string }).reason, reason);
      assert.equal(changed.steps[0], 0, 'every step is scored again');
      const fresh = await analyze(params({ ...change, document: 'fresh' }));
      assert.deepEqual(scored(changed.file), scored(fresh.file), `${JSON.stringify(change)}: the same as a run that never saw the kept steps`);
    }

    await analyze(params(), 1);
    await loadModel(SMALL_BUDGET_MIB, 'int8');
    try {
      const other = await analyze(params());
      assert.deepEqual(resumedOrStartedOver(other.events), [{ kind: 'startedOver', reason: 'the cancelled run used fp32 precision, this one int8' }]);
    } finally {
      await loadModel(SMALL_BUDGET_MIB);
    }
  });

  it('starts over on request, and when the kept steps cannot be read', async () => {
    await analyze(params(), 1);
    const restarted = await analyze(params({ restart: true }));
    assert.deepEqual(resumedOrStartedOver(restarted.events), []);
    assert.deepEqual(restarted.steps, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(scored(restarted.file), scored(reference));

    await analyze(params(), 1);
    const folder = join(work, 'cache', '.tts-resume');
    const kept = readdirSync(folder).filter((name) => name.endsWith('.json'));
    assert.equal(kept.length, 1);
    const damaged = JSON.parse(readFileSync(join(folder, kept[0]), 'utf8'));
    damaged.scores[1].s11 = 'NaN';
    writeFileSync(join(folder, kept[0]), JSON.stringify(damaged));
    const rescored = await analyze(params());
    assert.deepEqual(resumedOrStartedOver(rescored.events), [{ kind: 'startedOver', reason: "the cancelled run's kept steps could not be read" }]);
    assert.deepEqual(scored(rescored.file), scored(reference));
  });
});

describe('thinkscope analyze --tts after Ctrl-C', () => {
  const tracePath = join(work, 'reasoner-trace.md');

  /** Runs the command in-process with what it writes to stderr; `cancelWhen` cancels it (as Ctrl-C does) once stderr matches. */
  async function cli(args: string[], cancelWhen?: RegExp): Promise<{ said: string; error?: unknown }> {
    const controller = new AbortController();
    const write = process.stderr.write;
    let said = '';
    process.stderr.write = ((chunk: string | Uint8Array) => {
      said += String(chunk);
      if (cancelWhen?.test(said)) controller.abort();
      return true;
    }) as typeof process.stderr.write;
    try {
      await runCommand(analyzeCommand, [tracePath, '--model', MODEL, '--tts', '--segment', 'paragraph', '--threads', '1', '--memory-budget', String(SMALL_BUDGET_MIB), ...args], { signal: controller.signal });
      return { said };
    } catch (error) {
      return { said, error };
    } finally {
      process.stderr.write = write;
    }
  }

  it('resumes at the step it stopped at, says so, and writes the uninterrupted run\'s trace file', async () => {
    writeFileSync(tracePath, TRACE);
    const whole = join(work, 'whole.thinktrace.json');
    assert.equal((await cli(['--restart', '--out', whole])).error, undefined);

    const out = join(work, 'resumed.thinktrace.json');
    const cancelled = await cli(['--out', out], /True Thinking Score: step 1 of 7/);
    assert.ok(cancelled.error instanceof CancelledError, cancelled.said);
    assert.match(cancelled.said, /the steps scored so far are kept: run the same command again to resume where it stopped \(--restart starts over\)/);

    const resumed = await cli(['--out', out]);
    assert.equal(resumed.error, undefined, resumed.said);
    assert.match(resumed.said, /reasoner-trace\.md: resuming at step 3 of 7: 2 steps kept from the cancelled run \(--restart scores every step again\)/);
    assert.deepEqual(scored(JSON.parse(readFileSync(out, 'utf8'))), scored(JSON.parse(readFileSync(whole, 'utf8'))));
  });

  it('scores every step again when an option changed since the cancelled run, and says which', async () => {
    const out = join(work, 'seed.thinktrace.json');
    assert.ok((await cli(['--out', out], /True Thinking Score: step 1 of 7/)).error instanceof CancelledError);
    const other = await cli(['--out', out, '--seed', '7']);
    assert.equal(other.error, undefined, other.said);
    assert.match(other.said, /reasoner-trace\.md: scoring every step again: the perturbation seed changed since the cancelled run/);
    assert.doesNotMatch(other.said, /resuming/);
  });
});
