// Pruning rules, records and the batch table and chart (pure), then `thinkscope prune`, `whatif` and
// `analyze --lens` in-process on a model whose answer hangs on one step: pruning the decorative steps
// keeps the answer, removing or perturbing the step it reads moves it.

import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import type { PruneRecord } from '../../extension/common/bundle/trace-file';
import { answerKept, confidenceKept, parsePruneRule, prunePoints, pruneChartSvg, pruneTable, pruneTableRows, stepsToPrune, tokensSaved } from '../../extension/common/analysis/prune';
import { isPruneReportState } from '../../extension/common/prune-report-protocol';
import { pruneMarkers } from '../../webview/charts/prune-chart';
import { LENS_FIRST_TOKEN } from '../../extension/common/analysis/logit-lens';
import { runCommand, UsageError } from '../../extension/cli/command';
import { OutputError } from '../../extension/engine/atomic-write';
import { analyzeCommand } from '../../extension/cli/commands/analyze';
import { pruneCommand, prunedTraceFilePath } from '../../extension/cli/commands/prune';
import { whatifCommand } from '../../extension/cli/commands/whatif';
import { ANSWER, makeOneStepModel } from '../support/one-step-model';

const running = { signal: new AbortController().signal };
const STEPS = ['First we count 3 pears and 4 plums.', 'So we keep 5 apples.', 'Wait, let me check: 3 plus 4 is 7.', 'Yes, 7 minus 1 is 6.', 'Wait, 2 and 2 make 4.'];
const markdown = (steps: readonly string[]) => `How many are left?\n\n<think>\n${steps.join(' ')}\n</think>\n\nThe answer is \\boxed{${ANSWER}}.\n`;

function record(rule: PruneRecord['rule'], before: number, after: number, greedy: [string, string], tokens: [number, number]): PruneRecord {
  return { original: 't', rule, removed: [], answer: '8', tokens: { before: tokens[0], after: tokens[1] }, before: { confidence: before, greedy: greedy[0] }, after: { confidence: after, greedy: greedy[1] } };
}

describe('pruning rules and summaries', () => {
  const steps = [
    { index: 0, tts: 0.9 },
    { index: 1, tts: null },
    { index: 2, tts: 0.001 },
    { index: 3, tts: 0.004 },
    { index: 4, tts: 0.2 },
  ];

  it('removes the steps below a threshold or the lowest share, never an unscored step', () => {
    assert.deepEqual([...stepsToPrune(steps, { kind: 'threshold', value: 0.005 })].sort(), [2, 3]);
    assert.deepEqual([...stepsToPrune(steps, { kind: 'fraction', value: 0.5 })].sort(), [2, 3]);
    assert.deepEqual([...stepsToPrune(steps, { kind: 'fraction', value: 0.75 })].sort(), [2, 3, 4]);
    assert.deepEqual([...stepsToPrune(steps, { kind: 'fraction', value: 1 })].sort(), [0, 2, 3, 4]);
    assert.throws(() => stepsToPrune(steps, { kind: 'fraction', value: 1.5 }), /between 0 and 1/);
    assert.deepEqual(parsePruneRule('50%'), { kind: 'fraction', value: 0.5 });
    assert.deepEqual(parsePruneRule('0.005'), { kind: 'threshold', value: 0.005 });
    assert.throws(() => parsePruneRule('half'), /not a pruning rule/);
  });

  it('summarises a batch per rule as a table and a chart', () => {
    const half = { kind: 'fraction', value: 0.5 } as const;
    const low = { kind: 'threshold', value: 0.005 } as const;
    const records = [record(half, 0.8, 0.4, ['8', '8'], [100, 50]), record(half, 0.5, 0.5, ['3', '4'], [200, 120]), record(low, 0.9, 0.9, ['8', '8'], [100, 90])];
    assert.equal(tokensSaved(records[0]), 0.5);
    assert.equal(confidenceKept(records[0]), 0.5);
    assert.equal(answerKept(records[1]), false);
    const points = prunePoints(records);
    assert.deepEqual(points[0], { rule: half, traces: 2, tokensSaved: 0.45, answersKept: 0.5, confidenceKept: 0.75 });
    assert.match(pruneTable(points), /\| lowest 50% by TTS \| 2 \| 45% \| 50% \| 75% \|/);
    const svg = pruneChartSvg(points);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 2);
    assert.match(svg, /TTS &lt; 0.005/);
  });

  it("gives the panel the table's own rows, and one marker to rules that prune alike", () => {
    const half = { kind: 'fraction', value: 0.5 } as const;
    const low = { kind: 'threshold', value: 0.005 } as const;
    const lower = { kind: 'threshold', value: 0.001 } as const;
    const records = [record(half, 0.8, 0.4, ['8', '8'], [100, 50]), record(half, 0.5, 0.5, ['3', '4'], [200, 120]), record(low, 0.9, 0.9, ['8', '8'], [100, 90]), record(lower, 0.9, 0.9, ['8', '8'], [100, 90]), record({ kind: 'fraction', value: 1 }, 0, 0.2, ['8', '8'], [100, 10])];
    const points = prunePoints(records);
    const rows = pruneTableRows(points);
    assert.deepEqual(rows[0], ['lowest 50% by TTS', '2', '45%', '50%', '75%']);
    assert.deepEqual(rows[3], ['lowest 100% by TTS', '1', '90%', '100%', '∞'], 'confidence from zero cannot be a share');
    for (const row of rows) assert.ok(pruneTable(points).includes(`| ${row.join(' | ')} |`));
    const markers = pruneMarkers(points, rows);
    assert.deepEqual(
      markers.map((m) => m.label),
      ['2, 3', '1', '4'],
      'labelled by their rows, ordered by tokens saved; the two thresholds that remove the same share share a marker',
    );
    assert.equal(markers[0].tooltip, 'TTS < 0.005\ntraces: 1\ntokens saved (mean): 10%\nanswer kept: 100%\nconfidence kept (median): 100%\n\nTTS < 0.001\ntraces: 1\ntokens saved (mean): 10%\nanswer kept: 100%\nconfidence kept (median): 100%');
    const report = { folder: '/t', traces: 2, points, rows, written: { table: 'a', chart: 'b', records: 'c' } };
    assert.ok(isPruneReportState(JSON.parse(JSON.stringify(report))), 'a report survives the JSON a restored panel reads');
    assert.ok(!isPruneReportState({ ...report, rows: rows.slice(1) }));
    assert.ok(!isPruneReportState({ ...report, written: { table: 'a' } }));
  });
});

describe('thinkscope prune, whatif and analyze --lens', () => {
  let root: string;
  let modelDir: string;
  const cacheSetting = process.env.THINKSCOPE_CACHE;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'prune-cli-'));
    process.env.THINKSCOPE_CACHE = join(root, 'graphs');
    modelDir = join(root, 'model');
    await makeOneStepModel(modelDir);
    await writeFile(join(root, 'trace.md'), markdown(STEPS));
    await mkdir(join(root, 'folder'));
    await writeFile(join(root, 'folder', 'a.md'), markdown(STEPS));
    await writeFile(join(root, 'folder', 'b.md'), markdown([STEPS[2], STEPS[1], STEPS[4]]));
  });

  after(async () => {
    if (cacheSetting === undefined) delete process.env.THINKSCOPE_CACHE;
    else process.env.THINKSCOPE_CACHE = cacheSetting;
    await rm(root, { recursive: true, force: true });
  });

  it('prunes the decorative steps of one trace, keeps the answer and records what went', async () => {
    const out = join(root, 'pruned.md');
    await runCommand(pruneCommand, [join(root, 'trace.md'), '--model', modelDir, '--rule', '0.05', '--out', out], running);
    const pruned = await readFile(out, 'utf8');
    assert.equal(pruned, markdown([STEPS[1]]), 'only the step the answer reads is left');
    assert.equal(prunedTraceFilePath(out), join(root, 'pruned.thinktrace.json'));
    const file = parseTraceFile(await readFile(prunedTraceFilePath(out), 'utf8'));
    assert.equal(file.source.text, pruned);
    assert.equal(file.steps.length, 1);
    const pruning = file.pruning!;
    assert.deepEqual(pruning.removed.map((r) => r.index), [0, 2, 3, 4]);
    assert.ok(pruning.removed.every((r) => r.tts !== null && r.tts < 0.05));
    assert.ok(pruning.tokens.after < pruning.tokens.before);
    assert.ok(pruning.before.confidence > 0.9 && pruning.after.confidence > 0.9, `S ${pruning.before.confidence} → ${pruning.after.confidence}`);
    assert.equal(pruning.after.greedy, pruning.before.greedy);
  });

  it('never writes the pruned trace over the trace it reads', async () => {
    const input = join(root, 'trace.md');
    const before = await readFile(input, 'utf8');
    await assert.rejects(runCommand(pruneCommand, [input, '--model', modelDir, '--out', input], running), OutputError);
    const traceFile = join(root, 'trace.thinktrace.json');
    await writeFile(traceFile, '{}');
    await assert.rejects(runCommand(pruneCommand, [traceFile, '--model', modelDir, '--out', join(root, 'trace.md')], running), OutputError, 'its trace file would replace the input');
    await rm(traceFile);
    assert.equal(await readFile(input, 'utf8'), before);
  });

  it('over a folder writes a table, a chart and every record', async () => {
    const out = join(root, 'batch');
    await runCommand(pruneCommand, [join(root, 'folder'), '--model', modelDir, '--rules', '0.05,100%', '--out', out], running);
    const table = await readFile(join(out, 'prune-table.md'), 'utf8');
    assert.match(table, /\| TTS < 0.05 \| 2 \| \d+% \| 100% \|/);
    assert.match(table, /\| lowest 100% by TTS \| 2 \| \d+% \| 0% \|/, 'removing every scored step loses the answer');
    assert.match(await readFile(join(out, 'prune-chart.svg'), 'utf8'), /<svg /);
    assert.equal((await readFile(join(out, 'prune-results.jsonl'), 'utf8')).trim().split('\n').length, 4);
    await assert.rejects(runCommand(pruneCommand, [join(root, 'folder'), '--model', modelDir, '--rules', 'most', '--out', out], running), UsageError);
  });

  it('whatif: perturbing the step the answer reads moves it; removing a decorative check does not', async () => {
    const lines: string[] = [];
    const log = mock.method(console, 'log', (line: string) => lines.push(line));
    try {
      await runCommand(whatifCommand, [join(root, 'trace.md'), '--model', modelDir, '--perturb', '1'], running);
      await runCommand(whatifCommand, [join(root, 'trace.md'), '--model', modelDir, '--remove', '2'], running);
    } finally {
      log.mock.restore();
    }
    assert.match(lines[0], /^step 1 edited: S 0\.9\d\d → 0\.0\d\d · answer 8+ → /);
    assert.match(lines[3], /^step 2 removed: S 0\.9\d\d → 0\.9\d\d$/);
    await assert.rejects(runCommand(whatifCommand, [join(root, 'trace.md'), '--model', modelDir], running), /exactly one of/);
  });

  it('analyze --lens keeps the answer at every layer after every step', async () => {
    const out = join(root, 'lens.thinktrace.json');
    await runCommand(analyzeCommand, [join(root, 'trace.md'), '--model', modelDir, '--lens', '--out', out], running);
    const file = parseTraceFile(await readFile(out, 'utf8'));
    assert.equal(file.steps[0].projections[LENS_FIRST_TOKEN].length, 4);
    assert.ok(file.steps[0].projections[LENS_FIRST_TOKEN].every((p) => p < 0.5));
    assert.ok(file.steps[1].projections[LENS_FIRST_TOKEN][3] > 0.9);
  });
});
