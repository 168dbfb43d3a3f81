// --precision on every CLI command that loads a model: the weight format reaches the engine (int4
// logits are close to fp32's but not equal), and a format the engine does not build is refused.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { runCommand, UsageError, type Command } from '../../extension/cli/command';
import { COMMANDS } from '../../extension/cli/commands';
import { runCommandSpec } from '../../extension/cli/commands/run';
import { openSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { PRECISIONS } from '../../extension/common/precision';

let dir: string;
const context = { signal: new AbortController().signal };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-precision-'));
  process.env.THINKSCOPE_CACHE = join(dir, 'cache');
  await makeModel({ preset: 'tiny', outDir: join(dir, 'model'), seed: 4 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Leaf commands by their full name (`direction seal`). */
function leaves(commands: readonly Command[], prefix = ''): Map<string, Command> {
  const out = new Map<string, Command>();
  for (const command of commands) {
    const name = `${prefix}${command.name}`;
    if ('subcommands' in command) for (const [n, c] of leaves(command.subcommands, `${name} `)) out.set(n, c);
    else out.set(name, command);
  }
  return out;
}

test('every command that loads a model offers --precision with every format', () => {
  const commands = leaves(COMMANDS);
  const loading = ['analyze', 'generate', 'run', 'steer-step', 'serve', 'direction seal', 'direction assistant-axis', 'direction selective', 'direction truethinking'];
  for (const name of loading) {
    const command = commands.get(name);
    assert.ok(command && 'options' in command, `${name} is a command`);
    const option = command.options.precision;
    assert.ok(option, `${name} takes --precision`);
    for (const precision of PRECISIONS) assert.match(option.description, new RegExp(precision), `${name} --precision names ${precision}`);
  }
});

async function logits(precision: string): Promise<Float32Array> {
  const out = join(dir, `${precision}.safetensors`);
  await runCommand(runCommandSpec, ['--model', join(dir, 'model'), '--ids', '5,17,300,41,9', '--precision', precision, '--threads', '1', '--out', out], context);
  const file = await openSafetensors(out);
  try {
    return await file.readFloat32('logits');
  } finally {
    await file.close();
  }
}

test('run --precision int4 computes with int4 weights: close to fp32, not equal', async () => {
  const exact = await logits('fp32');
  const quantized = await logits('int4');
  let error = 0;
  let norm = 0;
  for (let i = 0; i < exact.length; i++) {
    error += (exact[i] - quantized[i]) ** 2;
    norm += exact[i] ** 2;
  }
  const relativeRms = Math.sqrt(error / norm);
  // A tiny random model's int4 error is large; the bound is the one the int4 graph test holds.
  assert.ok(relativeRms > 0, 'int4 logits differ from fp32');
  assert.ok(relativeRms < 0.5, `relative RMS ${relativeRms}`);
});

test('an unknown --precision is refused with the formats there are', async () => {
  await assert.rejects(
    runCommand(runCommandSpec, ['--model', join(dir, 'model'), '--ids', '5', '--precision', 'fp8', '--out', join(dir, 'x.safetensors')], context),
    (error: Error) => error instanceof UsageError && error.message.includes('--precision must be one of') && PRECISIONS.every((p) => error.message.includes(p)),
  );
});
