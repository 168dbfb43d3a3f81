import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { runCommand } from '../../extension/cli/command';
import { generateCommand, parseLayerList } from '../../extension/cli/commands/generate';
import { directionCommand } from '../../extension/cli/commands/direction';

let dir: string;
let modelDir: string;
const context = { signal: new AbortController().signal };

/** Runs `generate` in its own process and returns what it printed on stdout. */
function generateOutput(...args: string[]): string {
  const entry = join(dir, 'generate-entry.ts');
  const cli = resolve(__dirname, '../../extension/cli');
  writeFileSync(
    entry,
    `import { runCommand } from ${JSON.stringify(join(cli, 'command'))};\n` +
      `import { generateCommand } from ${JSON.stringify(join(cli, 'commands/generate'))};\n` +
      `runCommand(generateCommand, process.argv.slice(2), { signal: new AbortController().signal }).catch((e) => { console.error(e.message); process.exitCode = 2; });\n`,
  );
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry, '--model', modelDir, '--threads', '1', ...args], { encoding: 'utf8', env: process.env });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

/** Runs `generate` here, for arguments it refuses before printing anything. */
const refused = (...args: string[]) => runCommand(generateCommand, ['--model', modelDir, ...args], context);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'generate-cli-'));
  modelDir = join(dir, 'model');
  process.env.THINKSCOPE_CACHE = join(dir, 'cache');
  await makeModel({ preset: 'tiny', outDir: modelDir, seed: 9 });
  writeFileSync(join(dir, 'q.json'), JSON.stringify({ messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '<think>\nStart.\n\nAdd.\n\nWait, verify.\n\nSo four.\n</think>\n\n4' }] }));
  await runCommand(directionCommand, ['seal', join(dir, 'q.json'), '--model', modelDir, '--out', join(dir, 'seal')], context);
  await runCommand(directionCommand, ['assistant-axis', '--model', modelDir, '--out', join(dir, 'axis'), '--fast', '--questions', '1', '--max-tokens', '24'], context);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a steering file changes the reply, and --compare prints the baseline and the steered reply', async () => {
  const vector = Array.from({ length: 64 }, (_, i) => 40 * Math.cos(i));
  writeFileSync(join(dir, 'steer.json'), JSON.stringify({ interventions: [{ hook: 'blocks.1.hook_resid_post', kind: 'add', vector, scale: 1 }] }));
  const plain = generateOutput('--prompt', 'Tell me a story.', '--max-tokens', '12');
  const compared = generateOutput('--prompt', 'Tell me a story.', '--max-tokens', '12', '--steer', join(dir, 'steer.json'), '--compare');
  const [, baseline, steered] = compared.split(/=== baseline ===\n|=== steered \(steering file .*\) ===\n/);
  assert.equal(baseline, plain, 'the baseline is the unsteered reply');
  assert.notEqual(steered, baseline, 'a large added vector changes the greedy reply');
});

test('presets steer with a direction of their kind: seal and assistant-cap run, mismatches and missing directions are explained', async () => {
  const seal = generateOutput('--prompt', 'Count.', '--max-tokens', '6', '--direction', join(dir, 'seal'), '--preset', 'seal', '--scale', '2', '--compare');
  assert.match(seal, /=== steered \(seal: h − 2·v \(SEAL calibration, c = 2\) at hook_resid_pre of layer 3, at the "\\n\\n" step-boundary tokens the model generates inside <think>/);
  const capped = generateOutput('--prompt', 'Count.', '--max-tokens', '6', '--direction', join(dir, 'axis'), '--preset', 'assistant-cap', '--layers', '2-3', '--compare');
  assert.match(capped, /Assistant-Axis capping\) at hook_resid_post of layers 2, 3, at every position, prompt and reply/);

  await assert.rejects(refused('--prompt', 'x', '--preset', 'seal'), /--preset seal steers with a SEAL \(thinkscope direction seal\) direction: give its folder with --direction DIR/);
  await assert.rejects(refused('--prompt', 'x', '--direction', join(dir, 'axis'), '--preset', 'truethinking'), /a TrueThinking direction steers the tokens of one step of a trace: use `thinkscope steer-step/);
  await assert.rejects(refused('--prompt', 'x', '--direction', join(dir, 'axis'), '--preset', 'seal'), /preset seal needs a seal direction; "assistant-axis" is a assistant-axis direction/);
  await assert.rejects(refused('--prompt', 'x', '--direction', join(dir, 'axis'), '--method', 'calibrate'), /a assistant-axis direction steers with cap, add, ablate, not calibrate/);
  await assert.rejects(refused('--prompt', 'x', '--direction', join(dir, 'axis'), '--scale', '2'), /capping has no scale/);
  await assert.rejects(refused('--prompt', 'x', '--thinking', 'maybe'), /--thinking must be on or off; got "maybe"/);
  await assert.rejects(refused('--prompt', 'x', '--preset', 'loud'), /--preset must be one of seal, assistant-cap/);
  await assert.rejects(refused('--prompt', 'x', '--messages', 'm.json'), /exactly one of --prompt TEXT and --messages FILE/);
  await assert.rejects(refused('--prompt', 'x', '--compare'), /--compare needs steering/);
});

test('a conversation file is continued, and a malformed one is refused with its shape', async () => {
  writeFileSync(join(dir, 'chat.json'), JSON.stringify([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]));
  assert.ok((generateOutput('--messages', join(dir, 'chat.json'), '--max-tokens', '4')).length > 0);
  writeFileSync(join(dir, 'bad.json'), JSON.stringify([{ role: 'robot', content: 'Hi' }]));
  await assert.rejects(refused('--messages', join(dir, 'bad.json')), /message 1 is not \{"role", "content"\}/);
  assert.deepEqual(parseLayerList('3,5-7,5', 'layers'), [3, 5, 6, 7]);
  assert.throws(() => parseLayerList('7-5', 'layers'), /runs backwards/);
});
