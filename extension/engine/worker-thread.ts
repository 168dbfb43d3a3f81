// Starts one of the engine's worker threads: its bundle beside the calling bundle (dist/NAME.js), or
// its TypeScript source through tsx when the engine runs from source (tests, tools).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `dir` is the caller's `__dirname`: the bundle folder, or the source folder that holds NAME.ts. */
export function startWorkerThread(dir: string, name: string, options: WorkerOptions): Worker {
  const built = join(dir, `${name}.js`);
  if (existsSync(built)) return new Worker(built, options);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(join(dir, `${name}.ts`))});`, { ...options, eval: true });
}
