// `thinkscope serve`: the engine as a process speaking the ThinkScope protocol — over stdio (how the
// VS Code extension runs it) or over TCP, so the extension can use a bigger machine's engine.

import { createServer } from 'node:net';
import { isIP } from 'node:net';
import { EngineService } from '../../engine/server/engine-service';
import { analysisBackend } from '../../engine/server/analysis-backend';
import { connectStreams } from '../../engine/server/transport';
import { integerOption, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings } from '../open-model';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the engine for the VS Code extension, over stdio or TCP.',
  usage: 'serve (--stdio | --port N [--host ADDRESS]) [--precision FORMAT] [--threads N]',
  options: {
    stdio: { type: 'boolean', description: 'speak the protocol on stdin/stdout (how the extension starts the engine)' },
    port: { type: 'string', description: 'listen on this TCP port', valueName: 'N' },
    host: { type: 'string', description: 'address to listen on', valueName: 'ADDRESS', default: '127.0.0.1' },
    ...modelLoadOptions,
  },
  async run(values) {
    // The client's loadModel may name its own threads and precision; these apply where it does not.
    const { threads, precision, memoryBudget } = modelLoadSettings(values);
    const service = new EngineService(analysisBackend, { threads: threads > 0 ? threads : undefined, precision, memoryBudget });
    if (values.stdio) {
      // stdout carries the protocol: everything else the engine prints goes to stderr.
      console.log = console.error;
      console.info = console.error;
      await new Promise<void>((resolve) => {
        const connection = connectStreams(process.stdin, process.stdout, resolve);
        connection.onRequest((method, params, context) => service.handle(method, params, context));
      });
      await service.dispose();
      return;
    }
    if (values.port === undefined) throw new UsageError('give --stdio or --port N (see --help)');
    const port = integerOption(values, 'port');
    const host = String(values.host);
    if (!isLoopback(host)) console.error(`warning: listening on ${host}: anyone who can reach this address can run the loaded model`);
    const server = createServer((socket) => {
      const connection = connectStreams(socket, socket, () => socket.destroy());
      connection.onRequest((method, params, context) => service.handle(method, params, context));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        console.error(`thinkscope engine listening on ${host}:${port}`);
        resolve();
      });
    });
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
    server.close();
    await service.dispose();
  },
};
