// The thread a graph's weights are built on (see graph-cache.ts). Converting and quantizing a large checkpoint
// takes minutes and leaves gigabytes of arrays to the garbage collector: here the engine stays
// responsive meanwhile, and all of it is returned when the thread ends, before the session loads.
// Tensors are read by the opening thread (the weight source may be any object there) and moved here.

import { parentPort, workerData } from 'node:worker_threads';
import { writeWeightFiles, type BuildThreadData, type BuildThreadMessage, type ReadReply, type WeightSource } from './graph-build';

const port = parentPort!;
const { dir, spec, options, tensors } = workerData as BuildThreadData;
const post = (message: BuildThreadMessage) => port.postMessage(message);
const waiting = new Map<number, (buffer: ArrayBuffer) => void>();
let nextId = 0;

port.on('message', ({ id, buffer }: ReadReply) => {
  waiting.get(id)?.(buffer);
  waiting.delete(id);
});

function read(name: string, as: 'float32' | 'bytes'): Promise<ArrayBuffer> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    post({ type: 'read', id, name, as });
  });
}

const source: WeightSource = {
  tensors: new Map(tensors),
  readFloat32: async (name) => new Float32Array(await read(name, 'float32')),
  readBytes: async (name) => new Uint8Array(await read(name, 'bytes')),
};

writeWeightFiles(dir, spec, options, source, ({ message, done, total }) => post({ type: 'progress', message, done, total })).then(
  () => post({ type: 'done' }),
  (error: Error) => post({ type: 'failed', name: error.name, message: error.message }),
);
