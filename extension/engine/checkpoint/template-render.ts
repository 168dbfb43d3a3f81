// Renders a chat template with limits: on its own thread, with a time limit, a memory limit and a
// bound on the output. The caller waits synchronously (rendering is part of building a prompt), but
// never longer than the time limit: a template that loops or allocates without end is stopped and
// reported, and the engine goes on.

import type { Worker } from 'node:worker_threads';
import { CheckpointError } from './errors';
import { startWorkerThread } from '../worker-thread';

/** How long one render may take. */
export const RENDER_TIME_LIMIT_MS = 5000;
/** The longest prompt a template may produce (bytes of UTF-8). */
export const RENDER_OUTPUT_LIMIT = 16 * 1024 * 1024;
/** Heap the rendering thread may use. */
const RENDER_MEMORY_LIMIT_MB = 256;

export enum RenderStatus {
  waiting = 0,
  done = 1,
  failed = 2,
  tooLarge = 3,
  starting = 4,
  ready = 5,
}

/** How long the rendering thread may take to start (loading code, not running the template), on a busy machine too. */
const START_TIME_LIMIT_MS = 120_000;

/** A render stopped by a limit; rendering again would hit it again. */
export class TemplateLimitError extends CheckpointError {}

export class TemplateRenderer {
  private worker: Worker | null = null;
  private readonly shared = new SharedArrayBuffer(8 + RENDER_OUTPUT_LIMIT);
  private readonly state = new Int32Array(this.shared, 0, 2);

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  render(context: Record<string, unknown>): string {
    this.worker ??= this.start();
    Atomics.store(this.state, 0, RenderStatus.waiting);
    this.worker.postMessage(context);
    if (Atomics.wait(this.state, 0, RenderStatus.waiting, RENDER_TIME_LIMIT_MS) === 'timed-out') {
      void this.worker.terminate();
      this.worker = null;
      throw new TemplateLimitError(
        `${this.source}: the chat template did not finish rendering within ${RENDER_TIME_LIMIT_MS / 1000} s (a loop that does not end, or one too large for memory); it was stopped.`,
      );
    }
    const length = Atomics.load(this.state, 1);
    const status = Atomics.load(this.state, 0) as RenderStatus;
    if (status === RenderStatus.tooLarge) throw new TemplateLimitError(`${this.source}: the chat template produced ${length} bytes, more than the ${RENDER_OUTPUT_LIMIT} a prompt may have.`);
    const text = new TextDecoder().decode(new Uint8Array(this.shared, 8, length).slice());
    if (status === RenderStatus.failed) throw new Error(text);
    return text;
  }

  private start(): Worker {
    Atomics.store(this.state, 0, RenderStatus.starting);
    const worker = startWorkerThread(__dirname, 'template-worker', {
      workerData: { text: this.text, shared: this.shared },
      resourceLimits: { maxOldGenerationSizeMb: RENDER_MEMORY_LIMIT_MB },
    });
    worker.on('error', () => undefined); // out of memory, say: the render that waits on it reports the stop
    worker.unref();
    // The time limit is for the template, not for starting the thread.
    if (Atomics.wait(this.state, 0, RenderStatus.starting, START_TIME_LIMIT_MS) === 'timed-out') {
      void worker.terminate();
      throw new CheckpointError(`${this.source}: the thread that renders the chat template did not start.`);
    }
    return worker;
  }
}
