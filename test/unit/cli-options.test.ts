import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integerOption, numberOption, optionalInteger, optionalNumber, runCommand, UsageError, type Command } from '../../extension/cli/command';

test('numeric options: values, defaults, and one clear message for a missing or wrong value', () => {
  const values = { seed: '7', scale: '-1.5', empty: '', word: 'abc', half: '2.5' };
  assert.equal(integerOption(values, 'seed'), 7);
  assert.equal(numberOption(values, 'scale'), -1.5);
  assert.equal(integerOption(values, 'threads', 0), 0);
  assert.equal(optionalInteger(values, 'layer'), undefined);
  assert.equal(optionalNumber(values, 'scale'), -1.5);
  assert.throws(() => integerOption(values, 'step'), (e: Error) => e instanceof UsageError && e.message === '--step is required (see --help)');
  assert.throws(() => integerOption(values, 'half'), /--half must be an integer; got "2\.5"/);
  assert.throws(() => numberOption(values, 'word'), /--word must be a number; got "abc"/);
  // An empty value is not 0.
  assert.throws(() => optionalInteger(values, 'empty'), (e: Error) => e instanceof UsageError && /--empty must be an integer; got ""/.test(e.message));
});

test('a negative number after an option is its value, exactly as README and --help write it (--scale -1)', async () => {
  const seen: Record<string, unknown>[] = [];
  const command: Command = {
    name: 'probe',
    summary: 'records its options',
    usage: 'probe [--scale X] [--flag]',
    options: { scale: { type: 'string', description: 'a number', valueName: 'X' }, flag: { type: 'boolean', description: 'a flag' } },
    async run(values) {
      seen.push(values);
    },
  };
  await runCommand(command, ['--scale', '-1'], { signal: new AbortController().signal });
  await runCommand(command, ['--scale', '-.5', '--flag'], { signal: new AbortController().signal });
  assert.deepEqual(seen.map((v) => [numberOption(v, 'scale'), v.flag ?? false]), [[-1, false], [-0.5, true]]);
  await assert.rejects(runCommand(command, ['--scale', '--flag'], { signal: new AbortController().signal }), UsageError, 'an option name is still not a value');
});
