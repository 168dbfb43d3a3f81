// Every file and folder the product writes is complete or absent: it is written under a temporary
// name beside its destination and renamed into place only when whole, so a cancelled, failed or
// killed run leaves whatever was there before. Outputs never replace what the user gave as input.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A temporary name beside `path`, hidden, that says what it is. */
function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
}

/** Runs `write` on a temporary path beside `path`, then renames the result into place. */
export async function writeAtomically(path: string, write: (temporaryPath: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  const temp = temporaryBeside(path);
  try {
    await write(temp);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

export function writeFileAtomically(path: string, data: string | Uint8Array): Promise<void> {
  return writeAtomically(path, (temp) => writeFile(temp, data));
}

/**
 * Builds a folder under a temporary name, then puts it at `dir`. An existing `dir` is replaced only
 * when `replaceable` says so (an empty folder always is); the old one is removed once the new one is in place.
 */
export async function writeFolderAtomically(dir: string, build: (temporaryDir: string) => Promise<void>, replaceable: (existing: string[]) => boolean): Promise<void> {
  const existing = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new Error(`${dir}: ${error.code === 'ENOTDIR' ? 'a file is in the way of this folder' : error.message}`);
  });
  if (existing && existing.length > 0 && !replaceable(existing)) throw new OutputError(`${dir} is a folder that is not empty; choose another, or empty it first`);
  await mkdir(dirname(resolve(dir)), { recursive: true });
  const temp = temporaryBeside(dir);
  try {
    await mkdir(temp);
    await build(temp);
    if (existing && existing.length > 0) {
      // A folder cannot be renamed over one that has files: the old one moves aside, then goes.
      const old = temporaryBeside(dir);
      await rename(dir, old);
      try {
        await rename(temp, dir);
      } catch (error) {
        await rename(old, dir);
        throw error;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      if (existing) await rmdir(dir);
      await rename(temp, dir);
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** An output the user named cannot be written there; the message says why. */
export class OutputError extends Error {}

/** Refuses an output path that is one of the inputs (the same file, by any name). */
export async function refuseOverwritingInputs(output: string, inputs: readonly string[], what = 'the output'): Promise<void> {
  const target = await stat(output).catch(() => null);
  for (const input of inputs) {
    const source = await stat(input).catch(() => null);
    const same = resolve(input) === resolve(output) || (target && source && target.dev === source.dev && target.ino === source.ino);
    if (same) throw new OutputError(`${what} ${output} is also an input (${input}): writing it would destroy what is being read; choose another path`);
  }
}
