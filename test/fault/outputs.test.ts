// Nothing lost, nothing half-written: outputs never replace their own inputs or a folder of other
// files, a run stopped mid-way (Ctrl-C) leaves the earlier file as it was and no partial file, and what
// `analyze` writes from the longest trace it accepts opens again.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_TRACE_CHARS } from '../../extension/common/trace/parse';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import { runCommand } from '../../extension/cli/command';
import { analyzeCommand } from '../../extension/cli/commands/analyze';
import { makeModelCommand } from '../../extension/cli/commands/make-model';
import { exportTrace } from '../../extension/engine/export/export-trace';
import { saveDirection, loadDirection } from '../../extension/engine/directions/store';
import { DIRECTION_SCHEMA_ID, type Direction } from '../../extension/common/direction';

const running = { signal: new AbortController().signal };
const REPO = join(__dirname, '..', '..');
const trace = 'How many are left?\n\n<think>\nWe keep 5 apples.\n\nWait, 8 plums arrive.\n</think>\n\nThe answer is \\boxed{8}.\n';

describe('outputs', () => {
  let work: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'fault-outputs-'));
    await writeFile(join(work, 'trace.md'), trace);
  });

  after(() => rm(work, { recursive: true, force: true }));

  it('analyze refuses to write over its own input (by any name)', async () => {
    await assert.rejects(runCommand(analyzeCommand, [join(work, 'trace.md'), '--seal', '--out', join(work, 'trace.md')], running), /--out .*trace\.md is also an input/);
    await assert.rejects(runCommand(analyzeCommand, [join(work, 'trace.md'), '--seal', '--out', join(work, '.', 'sub', '..', 'trace.md')], running), /is also an input/);
    assert.equal(await readFile(join(work, 'trace.md'), 'utf8'), trace);
  });

  it('export refuses an HTML or Markdown path equal to the trace file it reads', async () => {
    const tracePath = join(work, 't.thinktrace.json');
    await runCommand(analyzeCommand, [join(work, 'trace.md'), '--seal', '--out', tracePath], running);
    const before = await readFile(tracePath, 'utf8');
    await assert.rejects(exportTrace(tracePath, { html: tracePath, chartScript: '' }), /is also an input/);
    await assert.rejects(exportTrace(tracePath, { md: tracePath }), /is also an input/);
    await assert.rejects(exportTrace(tracePath, { html: join(work, 'x.out'), md: join(work, 'x.out'), chartScript: '' }), /cannot both be written/);
    assert.equal(await readFile(tracePath, 'utf8'), before);
  });

  it('make-model refuses to write over an existing checkpoint unless --force, and then replaces it whole', async () => {
    const model = join(work, 'model');
    await runCommand(makeModelCommand, ['--preset', 'tiny', '--out', model, '--seed', '1'], running);
    const weights = await readFile(join(model, 'model.safetensors'));
    await writeFile(join(model, 'notes.txt'), 'mine');
    await assert.rejects(runCommand(makeModelCommand, ['--preset', 'tiny', '--out', model, '--seed', '2'], running), /is a folder that is not empty/);
    assert.ok(weights.equals(await readFile(join(model, 'model.safetensors'))), 'the checkpoint was changed');
    await runCommand(makeModelCommand, ['--preset', 'tiny', '--out', model, '--seed', '2', '--force'], running);
    assert.ok(!weights.equals(await readFile(join(model, 'model.safetensors'))));
    assert.deepEqual((await readdir(model)).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual((await readdir(work)).filter((name) => name.endsWith('.partial')), [], 'a partial folder was left');
  });

  it('a direction replaces an earlier direction, never a folder of other files', async () => {
    const direction = (value: number): Direction => ({
      meta: { schema: DIRECTION_SCHEMA_ID, name: 'd', method: 'seal', layers: [1], hiddenSize: 2 } as unknown as Direction['meta'],
      vectors: [new Float32Array([value, 0])],
      companions: {},
    });
    await saveDirection(join(work, 'dir'), direction(1));
    await saveDirection(join(work, 'dir'), direction(2));
    assert.equal((await loadDirection(join(work, 'dir'))).vectors[0][0], 2);
    await mkdir(join(work, 'papers'));
    await writeFile(join(work, 'papers', 'thesis.tex'), 'years of work');
    await assert.rejects(saveDirection(join(work, 'papers'), direction(3)), /is a folder that is not empty/);
    assert.deepEqual(await readdir(join(work, 'papers')), ['thesis.tex']);
  });

  it('Ctrl-C during analyze --out leaves the earlier file at that path intact and no partial file', async () => {
    const model = join(work, 'model');
    const out = join(work, 'earlier.thinktrace.json');
    await writeFile(out, 'the earlier result\n');
    const long = `How many?\n\n<think>\n${Array.from({ length: 150 }, (_, i) => `We keep ${i % 9} apples.`).join(' ')}\n</think>\n\nThe answer is \\boxed{8}.\n`;
    await writeFile(join(work, 'long.md'), long);
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'extension', 'cli', 'main.ts'), 'analyze', join(work, 'long.md'), '--model', model, '--tts', '--out', out], {
      cwd: REPO,
      env: { ...process.env, THINKSCOPE_CACHE: join(work, 'cache') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk) => {
        log += chunk;
        if (/True Thinking Score: step \d+ of/.test(log)) resolve();
      });
      void exited.then(() => reject(new Error(`analyze ended before it started scoring: ${log}`)));
    });
    child.kill('SIGINT');
    assert.equal(await exited, 130, log);
    assert.match(log, /cancelled/);
    assert.equal(await readFile(out, 'utf8'), 'the earlier result\n');
    assert.deepEqual((await readdir(work)).filter((name) => name.includes('partial')), []);
  });

  it('analyze of a trace as long as the parser accepts writes a trace file that opens again', async () => {
    const paragraph = 'We keep 5 apples and "count" them again.\t'.repeat(2000) + '\n\n';
    const body = paragraph.repeat(Math.floor((MAX_TRACE_CHARS - 100) / paragraph.length));
    const text = `How many?\n\n<think>\n${body}</think>\n\nThe answer is \\boxed{5}.\n`;
    assert.ok(text.length > MAX_TRACE_CHARS - paragraph.length && text.length <= MAX_TRACE_CHARS);
    await writeFile(join(work, 'big.md'), text);
    const out = join(work, 'big.thinktrace.json');
    await runCommand(analyzeCommand, [join(work, 'big.md'), '--seal', '--segment', 'paragraph', '--out', out], running);
    assert.ok((await stat(out)).size > 2 * 50 * 1024 * 1024, 'the file is larger than the earlier reader limit');
    const file = parseTraceFile(await readFile(out, 'utf8'));
    assert.equal(file.source.text, text);
  });
});
