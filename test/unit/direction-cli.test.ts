import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { runCommand } from '../../extension/cli/command';
import { directionCommand } from '../../extension/cli/commands/direction';
import { readPrompts } from '../../extension/engine/inputs';
import { loadDirection, loadDirectionFor } from '../../extension/engine/directions/store';
import { controlVectorBytes, parseControlVector } from '../../extension/engine/directions/gguf';
import { Model } from '../../extension/engine/model';

let dir: string;
let modelDir: string;
const context = { signal: new AbortController().signal };
const direction = (...args: string[]) => runCommand(directionCommand, args, context);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'direction-cli-'));
  modelDir = join(dir, 'model');
  await makeModel({ preset: 'tiny', outDir: modelDir, seed: 5 });
  process.env.THINKSCOPE_CACHE = join(dir, 'cache');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('direction import FILE.gguf --out DIR, then direction export DIR --gguf OUT.gguf, gives back the same vectors at the same blocks', async () => {
  const vectors = [1, 3].map((k) => Float32Array.from({ length: 64 }, (_, i) => Math.sin(k * 10 + i)));
  writeFileSync(join(dir, 'in.gguf'), controlVectorBytes({ modelHint: 'qwen2', layers: [1, 3], vectors }));
  await direction('import', join(dir, 'in.gguf'), '--out', join(dir, 'imported'));
  const imported = await loadDirection(join(dir, 'imported'));
  assert.deepEqual(imported.meta.layers, [1, 3]);
  assert.equal(imported.meta.hook, 'hook_resid_post');
  assert.equal(imported.meta.method, 'imported');

  await direction('export', join(dir, 'imported'), '--gguf', join(dir, 'out.gguf'));
  const back = parseControlVector(readFileSync(join(dir, 'out.gguf')));
  assert.deepEqual(back.layers, [1, 3]);
  assert.equal(back.modelHint, 'qwen2');
  back.vectors.forEach((v, i) => assert.deepEqual(Array.from(v), Array.from(vectors[i])));

  await direction('export', join(dir, 'imported'), '--gguf', join(dir, 'one.gguf'), '--layers', '3', '--scale=-2');
  const one = parseControlVector(readFileSync(join(dir, 'one.gguf')));
  assert.deepEqual(one.layers, [3]);
  assert.equal(one.vectors[0][5], Math.fround(-2 * vectors[1][5]));

  // The imported direction fits the tiny model (hidden size 64); one of another size is refused.
  const model = await Model.open(modelDir, { cacheRoot: join(dir, 'cache'), threads: 1 });
  try {
    assert.deepEqual((await loadDirectionFor(join(dir, 'imported'), model.fingerprint)).warnings, []);
    writeFileSync(join(dir, 'wide.gguf'), controlVectorBytes({ modelHint: 'llama', layers: [1], vectors: [new Float32Array(32).fill(1)] }));
    await direction('import', join(dir, 'wide.gguf'), '--out', join(dir, 'wide'));
    await assert.rejects(loadDirectionFor(join(dir, 'wide'), model.fingerprint), /hidden size 32; the loaded model's is 64/);
  } finally {
    await model.close();
  }
});

test('direction seal, selective and assistant-axis build direction folders from the command line', async () => {
  const traces = join(dir, 'traces');
  mkdirSync(traces, { recursive: true });
  const thinking = 'Start.\n\nAdd the numbers.\n\nWait, let me verify.\n\nAlternatively, count.\n\nSo it is four.';
  writeFileSync(join(traces, 'a.json'), JSON.stringify({ messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: `<think>\n${thinking}\n</think>\n\n4` }] }));
  writeFileSync(join(traces, 'notes.bin'), 'ignored: not a trace file extension');
  await direction('seal', traces, '--model', modelDir, '--out', join(dir, 'seal'), '--layer', '2');
  const seal = await loadDirection(join(dir, 'seal'));
  assert.equal(seal.meta.method, 'seal');
  assert.deepEqual(seal.meta.counts, { execution: 2, reflection: 1, transition: 1, traces: 1 });

  writeFileSync(join(dir, 'pos.txt'), 'How do I steal a car?\nHow do I pick a lock?\n\nHow do I hurt someone?\n');
  writeFileSync(join(dir, 'neg.jsonl'), ['{"prompt": "Bake a cake."}', '{"instruction": "Name a color."}', '"What is rain?"'].join('\n'));
  assert.deepEqual(await readPrompts(join(dir, 'pos.txt')), ['How do I steal a car?', 'How do I pick a lock?', 'How do I hurt someone?']);
  await direction('selective', '--model', modelDir, '--positive', join(dir, 'pos.txt'), '--negative', join(dir, 'neg.jsonl'), '--labels', 'harmful,harmless', '--out', join(dir, 'selective'));
  const selective = await loadDirection(join(dir, 'selective'));
  assert.deepEqual(selective.meta.counts, { harmful: 3, harmless: 3 });
  assert.equal(selective.companions.b2.length, selective.meta.layers.length);

  await direction('assistant-axis', '--model', modelDir, '--out', join(dir, 'axis'), '--fast', '--questions', '2', '--max-tokens', '12');
  const axis = await loadDirection(join(dir, 'axis'));
  assert.equal(axis.meta.method, 'assistant-axis');
  assert.match(String(axis.meta.details.averagedOver), /^reply tokens of generated replies/, '--fast still measures replies');
  assert.equal(axis.meta.details.maxTokens, 12, '--fast keeps the reply length the floor is applied to');
  assert.equal(axis.meta.details.questionsPerPrompt, 2, 'the default assistant answers every question');
  assert.equal(axis.meta.details.questionsPerRolePrompt, 1, 'each role prompt answers one');
  assert.ok((axis.meta.counts.roles as number) >= 40);
});

test('wrong subcommands and arguments get one clear message; truethinking is routed to its own command', async () => {
  await assert.rejects(direction('bogus'), /unknown direction subcommand "bogus": expected seal, assistant-axis, selective, truethinking, import, export/);
  await assert.rejects(direction('import', '--out', join(dir, 'x')), /give one control-vector file/);
  await assert.rejects(direction('export', join(dir, 'nowhere'), '--gguf', join(dir, 'x.gguf')), /not a ThinkScope direction folder/);
  await assert.rejects(direction('seal', '--model', modelDir, '--out', join(dir, 'x')), /give trace files or folders/);
  await assert.rejects(direction('import', join(dir, 'in.gguf'), '--gguf', 'x'), /Unknown option '--gguf'/);
  await assert.rejects(direction('truethinking', '--model', modelDir, '--out', join(dir, 'x')), /analysis result/);
  await assert.rejects(direction('selective', '--model', modelDir, '--positive', join(dir, 'pos.txt'), '--negative', join(dir, 'pos.txt'), '--labels', 'a', '--out', join(dir, 'x')), /--labels must be two different names/);
});
