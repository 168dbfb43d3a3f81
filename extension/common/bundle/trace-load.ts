// Loading a trace file someone else may have written: size and nesting limits before JSON.parse,
// schema validation whose messages name the field, cross-field checks the schema cannot express,
// migration of older versions and a polite refusal of newer ones.

import { jsonStringText } from '../trace/mapped-text';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { TRACE_SCHEMA_ID, TRACE_SCHEMA_VERSION, type StepAnnotation, type TraceFile } from './trace-file';
import { TRACE_SCHEMA_V0, TRACE_SCHEMA_V1 } from './trace-schema';
import { MAX_TRACE_CHARS } from '../trace/parse';

/**
 * Larger files are refused. A trace file holds its source text and every step's text again, so this
 * is twice the longest trace the parser reads plus room for the scores: what `analyze` accepts, it
 * can write, and what it writes opens again (it refuses to write a larger file).
 */
export const MAX_TRACE_FILE_CHARS = 2 * MAX_TRACE_CHARS + 64 * 1024 * 1024;
/** The schema is at most 6 levels deep; anything far deeper is hostile, not a trace. */
export const MAX_TRACE_FILE_DEPTH = 32;
/** How many schema problems one error message lists. */
const MAX_REPORTED_PROBLEMS = 5;

export class TraceFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceFileError';
  }
}

let validators: { v0: ValidateFunction; v1: ValidateFunction } | undefined;
/** Compiled on first use: loading this module costs nothing until a file is validated. */
function compiled() {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: true });
    validators = { v0: ajv.compile(TRACE_SCHEMA_V0), v1: ajv.compile(TRACE_SCHEMA_V1) };
  }
  return validators;
}

/** Parses, validates and (when older) migrates the text of a `*.thinktrace.json` file. */
export function parseTraceFile(text: string): TraceFile {
  if (text.length > MAX_TRACE_FILE_CHARS) {
    throw new TraceFileError(
      `trace file is too large: ${megabytes(text.length)} MB, at most ${megabytes(MAX_TRACE_FILE_CHARS)} MB is accepted`,
    );
  }
  const depth = jsonNestingDepth(text);
  if (depth > MAX_TRACE_FILE_DEPTH) {
    throw new TraceFileError(`trace file is nested ${depth} levels deep, at most ${MAX_TRACE_FILE_DEPTH} is accepted`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TraceFileError(`trace file is not valid JSON: ${(error as Error).message}`);
  }
  return validateTraceFile(value);
}

/** Validates an already-parsed value as a trace file, migrating older versions. */
export function validateTraceFile(value: unknown): TraceFile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TraceFileError(`a trace file is a JSON object with "schema": "${TRACE_SCHEMA_ID}", not ${describe(value)}`);
  }
  const schema = (value as { schema?: unknown }).schema;
  const version = schemaVersion(schema);
  if (version > TRACE_SCHEMA_VERSION) {
    throw new TraceFileError(
      `this trace file was made by a newer ThinkScope (schema "${String(schema)}"); update ThinkScope to open it (this version reads up to "${TRACE_SCHEMA_ID}")`,
    );
  }
  const file = version === 0 ? migrateV0(checked<TraceFileV0>(compiled().v0, value)) : checked<TraceFile>(compiled().v1, value);
  checkRanges(file);
  return file;
}

function schemaVersion(schema: unknown): number {
  const match = typeof schema === 'string' ? /^thinkscope\.trace\/(\d+)$/.exec(schema) : null;
  if (!match) {
    throw new TraceFileError(
      `not a ThinkScope trace file: "schema" is ${describe(schema)}, expected "${TRACE_SCHEMA_ID}"`,
    );
  }
  return Number(match[1]);
}

function checked<T>(validate: ValidateFunction, value: unknown): T {
  if (validate(value)) return value as T;
  const errors = validate.errors ?? [];
  const problems = [...new Set(errors.filter((e) => e.keyword !== 'if').map(describeSchemaError))];
  const shown = problems.slice(0, MAX_REPORTED_PROBLEMS).join('; ');
  const more = problems.length > MAX_REPORTED_PROBLEMS ? ` (and ${problems.length - MAX_REPORTED_PROBLEMS} more)` : '';
  throw new TraceFileError(`invalid trace file: ${shown}${more}`);
}

function describeSchemaError(error: ErrorObject): string {
  const at = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${join(at, String(params.missingProperty))}: is missing`;
    case 'additionalProperties':
      return `${join(at, String(params.additionalProperty))}: is not a field of this object`;
    case 'type':
      return `${at || 'the file'}: must be ${String(params.type).split(',').join(' or ')}`;
    case 'enum':
      return `${at}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${at}: must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${at || 'the file'}: ${error.message ?? 'is invalid'}`;
  }
}

/** "/steps/3/tts" → "steps[3].tts". */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : join(path, part)), '');
}
/** `path.key`, or `path["odd key"]` for a key that is not an identifier. */
function join(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path ? `${path}.${key}` : key;
}

interface StepV0 extends Omit<StepAnnotation, 'start' | 'end'> {
  range: { start: number; end: number };
}
type TraceFileV0 = Omit<TraceFile, 'schema' | 'steps' | 'turns' | 'personaFloor' | 'comparison'> & {
  schema: 'thinkscope.trace/0';
  steps: StepV0[];
};

/** v0 → v1: step ranges became `start`/`end`; persona turns and comparisons did not exist yet. */
function migrateV0(old: TraceFileV0): TraceFile {
  const steps = old.steps.map(({ range, ...step }) => ({ ...step, start: range.start, end: range.end }));
  return { ...old, schema: TRACE_SCHEMA_ID, steps, turns: [], personaFloor: null, comparison: null };
}

/** What the schema cannot say: ranges point inside the text they annotate, and say the same thing. */
function checkRanges(file: TraceFile): void {
  checkSteps(file.steps, file.source.text, 'steps', 'source.text', file.source.format === 'chat-json' || file.source.format === 'jsonl');
  file.turns.forEach((turn, i) => {
    if (turn.start > turn.end || turn.end > file.source.text.length) {
      throw new TraceFileError(
        `turns[${i}]: range ${turn.start}–${turn.end} is not inside source.text (${file.source.text.length} characters)`,
      );
    }
  });
  const projectedNames = new Map(file.directions.map((d) => [d.name, d.layers.length]));
  file.steps.forEach((step, i) => {
    for (const [name, values] of Object.entries(step.projections)) {
      const layerCount = projectedNames.get(name);
      if (layerCount !== undefined && values.length !== layerCount) {
        throw new TraceFileError(
          `${join(`steps[${i}].projections`, name)}: has ${values.length} values but direction "${name}" lists ${layerCount} layers`,
        );
      }
    }
  });
  const comparison = file.comparison;
  if (!comparison) return;
  checkSteps(comparison.baseline.steps, comparison.baseline.text, 'comparison.baseline.steps', 'comparison.baseline.text');
  checkSteps(comparison.steered.steps, comparison.steered.text, 'comparison.steered.steps', 'comparison.steered.text');
  const baseline = new Set(comparison.baseline.steps.map((s) => s.index));
  const steered = new Set(comparison.steered.steps.map((s) => s.index));
  comparison.alignment.forEach(([b, s], i) => {
    if ((b !== -1 && !baseline.has(b)) || (s !== -1 && !steered.has(s)) || (b === -1 && s === -1)) {
      throw new TraceFileError(
        `comparison.alignment[${i}]: [${b}, ${s}] must pair a baseline step index and a steered step index (-1 for none, not both)`,
      );
    }
  });
}

/** `json`: the steps sit inside JSON strings, and a step's text is the decoded string (or, in files written before, the raw characters). */
function checkSteps(steps: StepAnnotation[], text: string, at: string, textName: string, json = false): void {
  const seen = new Set<number>();
  let previousEnd = 0;
  steps.forEach((step, i) => {
    if (step.start > step.end || step.end > text.length) {
      throw new TraceFileError(`${at}[${i}]: range ${step.start}–${step.end} is not inside ${textName} (${text.length} characters)`);
    }
    if (step.start < previousEnd) {
      throw new TraceFileError(`${at}[${i}]: starts at ${step.start}, before the previous step ends (${previousEnd}); steps are ordered and do not overlap`);
    }
    const raw = text.slice(step.start, step.end);
    if (raw !== step.text && !(json && decodesTo(text, step, step.text))) {
      throw new TraceFileError(`${at}[${i}].text: differs from ${textName} at ${step.start}–${step.end}`);
    }
    if (seen.has(step.index)) throw new TraceFileError(`${at}[${i}].index: ${step.index} is used by an earlier step`);
    seen.add(step.index);
    previousEnd = step.end;
  });
}

/** Deepest `[`/`{` nesting of a JSON text, counted without parsing (strings are skipped). */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `a ${typeof value}`;
}

function megabytes(chars: number): string {
  return (chars / (1024 * 1024)).toFixed(1);
}

function decodesTo(text: string, range: { start: number; end: number }, expected: string): boolean {
  try {
    return jsonStringText(text, range).text === expected;
  } catch {
    return false;
  }
}
