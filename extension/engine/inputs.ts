// Reading what users point the analyses at: trace files and folders of them, prompt lists, and
// analysis results. Shared by the CLI and the engine service.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { TraceFile } from '../common/bundle/trace-file';
import { parseTraceFile } from '../common/bundle/trace-load';
import { parseTrace } from '../common/trace/parse';
import type { DatasetFields } from '../common/trace/parse-chat';
import type { ParsedTrace } from '../common/trace/types';

/** A path or file the user named that cannot be used; the message says why. */
export class InputError extends Error {}

export const TRACE_EXTENSIONS = new Set(['.json', '.jsonl', '.ndjson', '.md', '.markdown', '.txt']);

/** Files named, and the trace files (by extension) of folders named, recursively, in order. */
export async function traceFiles(paths: readonly string[], named = true): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new InputError(`${path}: no such file or folder`);
    if (info.isDirectory()) {
      const entries = (await readdir(path)).filter((e) => !e.startsWith('.')).sort();
      files.push(...(await traceFiles(entries.map((e) => join(path, e)), false)));
    } else if (named || TRACE_EXTENSIONS.has(extname(path).toLowerCase())) files.push(path);
  }
  return files;
}

/** The trace files of `paths` (as traceFiles finds them), each parsed, named by its file name. */
export async function readTraces(paths: readonly string[]): Promise<{ name: string; trace: ParsedTrace }[]> {
  const traces: { name: string; trace: ParsedTrace }[] = [];
  for (const file of await traceFiles(paths)) traces.push({ name: basename(file), trace: parseTrace(await readFile(file, 'utf8'), { fileName: file }) });
  return traces;
}

/** One prompt per line (.txt), a JSON list of strings, or JSONL/JSON objects with a prompt/instruction/goal/text field. */
export async function readPrompts(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(`${path}: cannot read the prompt file`);
  }
  const fromItem = (item: unknown, where: string): string => {
    if (typeof item === 'string') return item;
    const record = item as Record<string, unknown> | null;
    const field = ['prompt', 'instruction', 'goal', 'text'].find((key) => typeof record?.[key] === 'string');
    if (!field) throw new InputError(`${where}: expected a string or an object with a "prompt", "instruction", "goal" or "text" field`);
    return record![field] as string;
  };
  const ext = extname(path).toLowerCase();
  let prompts: string[];
  if (ext === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${path}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(json)) throw new InputError(`${path}: expected a JSON list of prompts`);
    prompts = json.map((item, i) => fromItem(item, `${path}: item ${i + 1}`));
  } else if (ext === '.jsonl' || ext === '.ndjson') {
    prompts = text.split('\n').flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [fromItem(JSON.parse(line), `${path}: line ${i + 1}`)];
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(`${path}: line ${i + 1} is not valid JSON`);
      }
    });
  } else prompts = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  prompts = prompts.filter((p) => p.trim() !== '');
  if (prompts.length === 0) throw new InputError(`${path}: no prompts`);
  return prompts;
}

/** Trace files written by `analyze` (.json, or .jsonl with one per line), from files or folders. */
export async function readTraceResults(paths: readonly string[]): Promise<TraceFile[]> {
  const files: TraceFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new InputError(`${path}: no such file or folder`);
    const entries = info.isDirectory() ? (await readdir(path)).filter((name) => /\.(json|jsonl)$/i.test(name)).sort().map((name) => join(path, name)) : [path];
    if (entries.length === 0) throw new InputError(`${path}: the folder has no analysis results (.json or .jsonl)`);
    for (const entry of entries) {
      const text = await readFile(entry, 'utf8');
      const documents = /\.jsonl$/i.test(entry) ? text.split('\n').map((line, i) => ({ line: i + 1, text: line })).filter((d) => d.text.trim() !== '') : [{ line: 0, text }];
      for (const document of documents) {
        try {
          files.push(parseTraceFile(document.text));
        } catch (error) {
          throw new Error(`${entry}${document.line ? `:${document.line}` : ''}: ${(error as Error).message}`);
        }
      }
    }
  }
  return files;
}

/** One conversation to analyse: a file, a line of a JSONL file, or one conversation of a JSON array. */
export interface TraceDocument {
  name: string;
  trace: ParsedTrace;
  conversation: number;
}

/** The conversations of the files named and of the trace files directly in the folders named (none of them `out`, no trace file). */
export async function readTraceDocuments(paths: readonly string[], out: string, fields: DatasetFields = {}): Promise<{ documents: TraceDocument[]; fromFolder: boolean }> {
  const documents: TraceDocument[] = [];
  let fromFolder = false;
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (!info) throw new InputError(`${path}: no such file or folder`);
    let files = [path];
    if (info.isDirectory()) {
      fromFolder = true;
      const names = (await readdir(path)).filter((name) => TRACE_EXTENSIONS.has(extname(name).toLowerCase()) && !/\.thinktrace\.json$/i.test(name)).sort();
      files = names.map((name) => join(path, name)).filter((file) => resolve(file) !== out);
      if (files.length === 0) throw new InputError(`${path}: the folder has no trace files (.json, .jsonl, .md, .txt)`);
    }
    for (const file of files) documents.push(...documentsOf(file, await readFile(file, 'utf8'), fields));
  }
  return { documents, fromFolder };
}

/** A JSONL file gives one document per line, its source being that line alone; a JSON array one per conversation. */
function documentsOf(path: string, text: string, fields: DatasetFields): TraceDocument[] {
  let trace: ParsedTrace;
  try {
    trace = parseTrace(text, { fileName: path, fields });
  } catch (error) {
    const message = (error as Error).message;
    throw new InputError(message.startsWith(path) ? message : `${path}: ${message}`);
  }
  if (trace.format === 'jsonl') {
    const lines = text.split('\n');
    return trace.conversations.map(({ line }) => {
      const lineText = lines[line - 1].replace(/\r$/, '');
      return { name: `${path}:${line}`, trace: parseTrace(lineText, { fileName: 'line.json', fields }), conversation: 0 };
    });
  }
  if (trace.conversations.length === 1) return [{ name: path, trace, conversation: 0 }];
  return trace.conversations.map((_, c) => ({ name: `${path}#${c + 1}`, trace, conversation: c }));
}
