// Moves protocol lines over a pair of streams (the engine process's stdio, or a TCP socket).

import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { RpcConnection } from '../../common/rpc';

export function connectStreams(input: Readable, output: Writable, onClose: () => void): RpcConnection {
  const connection = new RpcConnection((line) => output.write(line + '\n'));
  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => connection.receive(line));
  lines.on('close', () => {
    connection.close('the connection closed');
    onClose();
  });
  return connection;
}
