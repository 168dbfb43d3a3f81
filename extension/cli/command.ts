// One CLI command: its options (node:util parseArgs), its help text, and what it does.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { memoryBudgetFromMib } from '../engine/runtime/memory-budget';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface CommandContext {
  /** Aborted on Ctrl-C: long operations stop at their next step. */
  signal: AbortSignal;
}

interface CommandBase {
  name: string;
  summary: string;
  usage: string;
}

/** A command made of subcommands (`direction seal ...`): the first argument picks one. */
export interface CommandGroup extends CommandBase {
  subcommands: readonly Command[];
}

export type Command = LeafCommand | CommandGroup;

export interface LeafCommand extends CommandBase {
  options: Record<string, OptionSpec>;
  /** Positional arguments are allowed (e.g. trace files). */
  positionals?: string;
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[], context: CommandContext): Promise<void>;
}

export class UsageError extends Error {}

export function helpText(command: Command): string {
  if ('subcommands' in command) {
    return [command.summary, '', `Usage: thinkscope ${command.name} ${command.subcommands.map((s) => s.name).join('|')} ...   (each with --help)`, '', ...command.subcommands.map((s) => `  thinkscope ${s.usage}\n      ${s.summary}`)].join('\n');
  }
  const lines = [`${command.summary}`, '', `Usage: thinkscope ${command.usage}`, '', 'Options:'];
  const entries = Object.entries({ ...command.options, help: { type: 'boolean', description: 'show this help' } as OptionSpec });
  const left = entries.map(([name, spec]) => `  --${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  entries.forEach(([, spec], i) => lines.push(left[i].padEnd(width) + spec.description + (spec.default !== undefined ? ` (default: ${spec.default})` : '')));
  return lines.join('\n');
}

export async function runCommand(command: Command, argv: string[], context: CommandContext): Promise<void> {
  if ('subcommands' in command) {
    const [name, ...rest] = argv;
    const sub = command.subcommands.find((s) => s.name === name);
    if (sub) return runCommand(sub, rest, context);
    if (name === '--help' || name === '-h') return console.log(helpText(command));
    const expected = command.subcommands.map((s) => s.name).join(', ');
    throw new UsageError(`${name ? `unknown ${command.name} subcommand "${name}"` : 'give a subcommand'}: expected ${expected}\n\n${helpText(command)}`);
  }
  // parseArgs rejects keys it does not know (description) and keys set to undefined.
  const options = Object.fromEntries(
    Object.entries(command.options).map(([name, { description: _, valueName: __, ...spec }]) => [name, Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined))]),
  ) as unknown as ParseArgsConfig['options'];
  let parsed;
  try {
    parsed = parseArgs({ args: withNegativeValues(argv, options), options: { ...options, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${helpText(command)}`);
  }
  if (parsed.values.help) {
    console.log(helpText(command));
    return;
  }
  if (!command.positionals && parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"\n\n${helpText(command)}`);
  await command.run(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals, context);
}

/**
 * `--scale -1` as `--scale=-1`: parseArgs takes an argument that starts with a dash for an option, so
 * a negative number after an option that takes a value is joined to it.
 */
function withNegativeValues(argv: readonly string[], options: ParseArgsConfig['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([^=]+)$/.exec(argv[i])?.[1];
    if (name !== undefined && options?.[name]?.type === 'string' && /^-(?:\d|\.\d)/.test(argv[i + 1] ?? '')) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required (see --help)`);
  return value;
}

export function integerOption(values: Record<string, unknown>, name: string, fallback?: number): number {
  return numericOption(values, name, fallback, 'an integer', Number.isInteger);
}

export function numberOption(values: Record<string, unknown>, name: string, fallback?: number): number {
  return numericOption(values, name, fallback, 'a number', Number.isFinite);
}

/** The option as an integer, or undefined when it was not given. */
export function optionalInteger(values: Record<string, unknown>, name: string): number | undefined {
  return values[name] === undefined ? undefined : integerOption(values, name);
}

/** --memory-budget MIB in bytes (0: the default share of free memory). */
export function memoryBudgetOption(values: Record<string, unknown>): number {
  const mib = numberOption(values, 'memory-budget', 0);
  if (mib < 0) throw new UsageError(`--memory-budget must be a number of MiB (0 for the default); got ${mib}`);
  return memoryBudgetFromMib(mib);
}

/** The option as a number, or undefined when it was not given. */
export function optionalNumber(values: Record<string, unknown>, name: string): number | undefined {
  return values[name] === undefined ? undefined : numberOption(values, name);
}

function numericOption(values: Record<string, unknown>, name: string, fallback: number | undefined, what: string, valid: (n: number) => boolean): number {
  const value = values[name];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} is required (see --help)`);
  }
  const n = Number(value);
  // Number('') is 0: an empty value is not a number.
  if (typeof value !== 'string' || value.trim() === '' || !valid(n)) throw new UsageError(`--${name} must be ${what}; got ${JSON.stringify(value)}`);
  return n;
}
