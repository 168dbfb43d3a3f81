// `thinkscope analyze` and `thinkscope direction truethinking`, run in-process on real files and a real model.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTraceFile } from '../../extension/common/bundle/trace-load';
import { runCommand, UsageError } from '../../extension/cli/command';
import { analyzeCommand } from '../../extension/cli/commands/analyze';
import { directionTruethinkingCommand } from '../../extension/cli/commands/direction-truethinking';
import { loadDirection } from '../../extension/engine/directions/store';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { ANSWER, makeOneStepModel } from '../support/one-step-model';

function chat(steps: string[], reply = `So the answer is \\boxed{${ANSWER}}.`): string {
  return JSON.stringify({ messages: [{ role: 'user', content: 'How many are left in the basket?' }, { role: 'assistant', reasoning_content: steps.join('\n\n'), content: reply }] });
}

const running = { signal: new AbortController().signal };

describe('thinkscope analyze', () => {
  let root: string;
  let modelDir: string;
  const cacheSetting = process.env.THINKSCOPE_CACHE;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'analyze-cli-'));
    process.env.THINKSCOPE_CACHE = join(root, 'graphs');
    modelDir = join(root, 'model');
    await makeOneStepModel(modelDir);
    await writeFile(join(root, 'one.json'), chat(['First we count 3 pears and 4 plums', 'The shop is closed', 'So we keep 5 apples', 'Wait, 7 minus 1 is 6']));
    await mkdir(join(root, 'folder'));
    await writeFile(join(root, 'folder', 'a.md'), 'How many are left?\n\n<think>\nWe keep 5 apples. Then 8 plums arrive.\n</think>\n\nThe answer is \\boxed{8}.\n');
    await writeFile(join(root, 'folder', 'b.jsonl'), [chat(['There are 12 pears', 'In the end we keep 5 apples']), '', chat(['We keep 5 apples', 'Then 3 go bad'])].join('\n') + '\n');
    await writeFile(join(root, 'folder', 'notes.csv'), 'not a trace\n');
  });

  after(async () => {
    if (cacheSetting === undefined) delete process.env.THINKSCOPE_CACHE;
    else process.env.THINKSCOPE_CACHE = cacheSetting;
    await rm(root, { recursive: true, force: true });
  });

  it('writes one annotated trace file for one trace, with every step and its four confidences', async () => {
    const out = join(root, 'one.thinktrace.json');
    await runCommand(analyzeCommand, [join(root, 'one.json'), '--model', modelDir, '--segment', 'paragraph', '--tts', '--out', out], running);
    const file = parseTraceFile(await readFile(out, 'utf8'));
    assert.equal(file.segmentation, 'paragraph');
    assert.equal(file.model?.name, 'model');
    assert.deepEqual(file.settings.answer, ANSWER);
    assert.equal(file.settings.cue, '\n The final answer is \\boxed{');
    assert.deepEqual(file.steps.map((s) => s.text), ['First we count 3 pears and 4 plums', 'The shop is closed', 'So we keep 5 apples', 'Wait, 7 minus 1 is 6']);
    assert.ok(file.steps.every((step) => step.sealClass === null && step.sealKeyword === null), 'SEAL fields are left for the SEAL analysis');
    assert.deepEqual(file.steps.map((s) => s.perturbable), [true, false, true, true]);
    assert.deepEqual([file.steps[1].tts, file.steps[1].s11], [null, null]);
    const target = file.steps[2];
    assert.ok(target.tts! > 0.9 && target.s11! > 0.9 && target.s01! < 0.01 && target.s10! > 0.9 && target.s00! < 0.01);
    assert.ok(file.steps[0].tts! < 0.005 && file.steps[3].tts! < 0.005);
  });

  it('writes JSONL for a folder, one trace file per trace (each JSONL line its own trace); steps only without --tts', async () => {
    const out = join(root, 'folder.jsonl');
    await runCommand(analyzeCommand, [join(root, 'folder'), '--out', out], running);
    const files = (await readFile(out, 'utf8')).trimEnd().split('\n').map(parseTraceFile);
    assert.deepEqual(files.map((f) => f.source.name), [join(root, 'folder', 'a.md'), `${join(root, 'folder', 'b.jsonl')}:1`, `${join(root, 'folder', 'b.jsonl')}:3`]);
    assert.deepEqual(files.map((f) => f.source.format), ['markdown', 'chat-json', 'chat-json']);
    assert.deepEqual(files[0].steps.map((s) => s.text), ['We keep 5 apples.', 'Then 8 plums arrive.']);
    assert.equal(files[2].source.text, chat(['We keep 5 apples', 'Then 3 go bad']), 'a JSONL line is its own source');
    assert.deepEqual(files[1].steps.map((s) => s.text), ['There are 12 pears', 'In the end we keep 5 apples'], 'a blank line starts a step');
    for (const file of files) {
      assert.equal(file.model, null);
      assert.ok(file.steps.every((s) => s.tts === null && s.s11 === null));
    }
  });

  it('reads dataset rows by the field names --fields gives', async () => {
    const rows = join(root, 'rows.jsonl');
    await writeFile(rows, `${JSON.stringify({ q: 'How many?', cot: 'We keep 5 apples. Then 3 go bad.', final: '2', answer: 'ignored' })}\n`);
    const out = join(root, 'rows-out.jsonl');
    await runCommand(analyzeCommand, [rows, '--fields', 'question=q,reasoning=cot,answer=final', '--out', out], running);
    const [file] = (await readFile(out, 'utf8')).trimEnd().split('\n').map(parseTraceFile);
    assert.deepEqual(file.steps.map((s) => s.text), ['We keep 5 apples.', 'Then 3 go bad.']);
    await assert.rejects(runCommand(analyzeCommand, [rows, '--fields', 'thinking=cot', '--out', out], running), /--fields takes question=NAME,reasoning=NAME,answer=NAME/);
  });

  it('refuses a .json output for several traces, --tts without a model, and an unknown segmentation', async () => {
    await assert.rejects(runCommand(analyzeCommand, [join(root, 'folder'), '--out', join(root, 'x.json')], running), (e: Error) => e instanceof UsageError && /write them to a \.jsonl file/.test(e.message));
    await assert.rejects(runCommand(analyzeCommand, [join(root, 'one.json'), '--tts', '--out', join(root, 'x.json')], running), (e: Error) => e instanceof UsageError && /--tts needs --model/.test(e.message));
    await assert.rejects(runCommand(analyzeCommand, [join(root, 'one.json'), '--segment', 'words', '--out', join(root, 'x.json')], running), /--segment must be one of sentence, paragraph, markers/);
  });

  it('names the trace when its answer is missing', async () => {
    await writeFile(join(root, 'no-answer.json'), chat(['We keep 5 apples'], ''));
    await assert.rejects(runCommand(analyzeCommand, [join(root, 'no-answer.json'), '--model', modelDir, '--tts', '--out', join(root, 'x.json')], running), /no-answer\.json: the trace has no \\boxed\{\} answer/);
  });

  it('a cancelled run leaves the previous output untouched and no partial file', async () => {
    const out = join(root, 'kept.json');
    await writeFile(out, 'previous result\n');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(runCommand(analyzeCommand, [join(root, 'one.json'), '--model', modelDir, '--tts', '--segment', 'paragraph', '--out', out], { signal: controller.signal }), CancelledError);
    assert.equal(await readFile(out, 'utf8'), 'previous result\n');
    assert.deepEqual((await readdir(root)).filter((name) => name.includes('partial')), []);
  });

  it("says before any work when a trace is longer than the model's positions, and analyses its last N tokens of thinking on request", async () => {
    // 400 numbered steps: far more than the tiny model's 2,048 positions.
    const steps = Array.from({ length: 400 }, (_, i) => `Then we count ${i + 3} pears and ${i + 4} plums`);
    const source = chat(steps);
    await writeFile(join(root, 'long.json'), source);
    const out = join(root, 'long.thinktrace.json');
    await assert.rejects(
      runCommand(analyzeCommand, [join(root, 'long.json'), '--model', modelDir, '--segment', 'paragraph', '--tts', '--out', out], running),
      (error: Error) => /long\.json: the trace needs [\d,]+ positions .* but the model holds 2,048: analyse a selection of the thinking, or only its last [\d,]+ tokens \(--last-tokens \d+\)$/.test(error.message),
    );
    await assert.rejects(readFile(out), /ENOENT/);

    const said: string[] = [];
    const print = console.error;
    console.error = (...args: unknown[]) => said.push(args.join(' '));
    try {
      await runCommand(analyzeCommand, [join(root, 'long.json'), '--model', modelDir, '--segment', 'paragraph', '--tts', '--last-tokens', '300', '--out', out], running);
    } finally {
      console.error = print;
    }
    const file = parseTraceFile(await readFile(out, 'utf8'));
    const kept = file.steps.length;
    assert.ok(said.includes(`wrote ${out}: 1 trace, ${kept} steps analysed (${400 - kept} earlier steps cut by --last-tokens 300), ${kept} scored`), said.join('\n'));
    assert.ok(file.steps.length > 5 && file.steps.length < 100, `only the last steps are analysed (${file.steps.length})`);
    assert.deepEqual(file.steps.map((s) => s.text), steps.slice(-file.steps.length), 'the last steps, in order');
    assert.deepEqual(file.steps.map((s) => s.index), file.steps.map((_, i) => i));
    for (const step of file.steps) assert.equal(source.slice(step.start, step.end), step.text, 'ranges point into the source file');
    assert.ok(file.steps.every((s) => s.tts !== null), 'every kept step is scored');
    await assert.rejects(runCommand(analyzeCommand, [join(root, 'long.json'), '--last-tokens', '300', '--out', out], running), /--last-tokens needs --model/);
  });

  it('builds the TrueThinking direction from analyzed results', async () => {
    const results = join(root, 'scored.jsonl');
    await writeFile(join(root, 'two.json'), chat(['There are 12 pears', 'Then 3 go bad', 'In the end we keep 5 apples', 'And 4 plums']));
    await runCommand(analyzeCommand, [join(root, 'one.json'), join(root, 'two.json'), '--model', modelDir, '--tts', '--segment', 'paragraph', '--out', results], running);
    const out = join(root, 'direction');
    await runCommand(directionTruethinkingCommand, [results, '--model', modelDir, '--out', out, '--low', '0.01'], running);
    const direction = await loadDirection(out);
    assert.deepEqual(direction.meta.counts, { high: 2, low: 5 });
    assert.equal(direction.meta.details.lowMax, 0.01);
    assert.equal(direction.vectors.length, 4);
    assert.ok(direction.vectors[1].some((x) => x !== 0));
  });
});
