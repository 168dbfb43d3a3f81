// BENCHMARKS.md is written by several runs of the bench: the main figures (`npm run bench`) and
// sections of their own (`--long`, `--large`, `--what-if`), each between its markers. Writing one part keeps the others.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const FILE = resolve('BENCHMARKS.md');
const begin = (name: string) => `<!-- bench section: ${name} -->`;
const end = (name: string) => `<!-- end of bench section: ${name} -->`;
const SECTION = /<!-- bench section: ([\w-]+) -->\n[\s\S]*?<!-- end of bench section: \1 -->\n?/g;

async function current(): Promise<string> {
  return readFile(FILE, 'utf8').catch(() => '');
}

async function writeAtomically(text: string): Promise<void> {
  const temp = `${FILE}.partial-${process.pid}`;
  await writeFile(temp, text);
  await rename(temp, FILE);
}

/** The main figures: the whole file but its sections, which are kept after it. */
export async function writeBenchmarkMain(markdown: string): Promise<void> {
  const sections = (await current()).match(SECTION) ?? [];
  await writeAtomically([markdown.trimEnd(), ...sections.map((s) => s.trimEnd())].join('\n\n') + '\n');
}

/** One section, replaced where it is or added at the end. */
export async function writeBenchmarkSection(name: string, markdown: string): Promise<void> {
  const text = await current();
  const section = `${begin(name)}\n${markdown.trimEnd()}\n${end(name)}\n`;
  const existing = [...text.matchAll(SECTION)].find((m) => m[1] === name);
  const updated = existing ? text.replace(existing[0], section) : `${text.trimEnd()}\n\n${section}`;
  await writeAtomically(updated);
}
