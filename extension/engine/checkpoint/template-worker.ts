// The thread that renders a checkpoint's chat template (see template-render.ts): a template is code
// from the model folder, so it runs where a runaway loop or allocation can be stopped without
// stopping the engine. Each result goes back through shared memory, bounded in size.

import { parentPort, workerData } from 'node:worker_threads';
import { Template } from '@huggingface/jinja';
import { RenderStatus } from './template-render';

const { text, shared } = workerData as { text: string; shared: SharedArrayBuffer };
const template = new Template(text);
const state = new Int32Array(shared, 0, 2);
const output = new Uint8Array(shared, 8);
Atomics.store(state, 0, RenderStatus.ready);
Atomics.notify(state, 0);

parentPort!.on('message', (context: Record<string, unknown>) => {
  let status: RenderStatus = RenderStatus.done;
  let encoded: Uint8Array;
  try {
    encoded = new TextEncoder().encode(template.render(context));
  } catch (error) {
    status = RenderStatus.failed;
    encoded = new TextEncoder().encode((error as Error).message.slice(0, 2000));
  }
  if (encoded.length > output.length) status = RenderStatus.tooLarge;
  else output.set(encoded);
  Atomics.store(state, 1, encoded.length);
  Atomics.store(state, 0, status);
  Atomics.notify(state, 0);
});
