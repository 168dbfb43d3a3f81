// thinkscope: the command-line front end over the engine (and, as `serve`, the engine process the
// VS Code extension talks to).

import { CancelledError } from '../engine/runtime/progress';
import { runCommand, UsageError, type Command } from './command';
import { COMMANDS } from './commands';

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'ThinkScope: see inside a model’s chain-of-thought and steer it, on your own Hugging Face checkpoint.',
    '',
    'Usage: thinkscope COMMAND [options]     (thinkscope COMMAND --help for each)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name ? 0 : 1;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`thinkscope: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    await runCommand(command, rest, { signal: controller.signal });
    return 0;
  } catch (error) {
    if (error instanceof CancelledError) {
      console.error('thinkscope: cancelled');
      return 130;
    }
    // Errors carry messages written for the user; the stack is for developers who ask for it.
    console.error(`thinkscope ${name}: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.THINKSCOPE_DEBUG) console.error((error as Error).stack);
    return error instanceof UsageError ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
