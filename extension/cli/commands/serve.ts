// `thinkscope serve`: the engine as a process speaking the ThinkScope protocol — over stdio (how the
// VS Code extension runs it) or over TCP, so the extension can use a bigger machine's engine. Over TCP
// the engine is like a notebook server: it listens on loopback unless told otherwise, every client
// must send its token, and clients may name only paths inside one root folder.

import { randomBytes } from 'node:crypto';
import { createServer, isIP, type AddressInfo, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { ErrorCodes } from '../../common/protocol';
import { EngineService } from '../../engine/server/engine-service';
import { analysisBackend } from '../../engine/server/analysis-backend';
import { ServedRoot } from '../../engine/server/served-root';
import { serveConnection } from '../../engine/server/transport';
import { integerOption, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings } from '../open-model';

/** More clients than this at once are refused with a message (each holds buffers and requests). */
const MAX_CLIENTS = 8;
/** Shorter tokens are refused: a token is all that keeps others out. */
const MIN_TOKEN_LENGTH = 16;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function refuse(socket: Socket, message: string): void {
  socket.on('error', () => undefined);
  socket.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: ErrorCodes.invalidRequest, message } }) + '\n');
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the engine for the VS Code extension, over stdio or TCP (token required, paths only under --root).',
  usage: 'serve (--stdio | --port N [--host ADDRESS] [--root DIR] [--token TOKEN]) [--precision FORMAT] [--threads N]',
  options: {
    stdio: { type: 'boolean', description: 'speak the protocol on stdin/stdout (how the extension starts the engine)' },
    port: { type: 'string', description: 'listen on this TCP port', valueName: 'N' },
    host: { type: 'string', description: 'address to listen on (other than loopback only behind a firewall; prefer an SSH tunnel)', valueName: 'ADDRESS', default: '127.0.0.1' },
    root: { type: 'string', description: 'the folder clients may read models, traces and directions from and write into (default: your home folder)', valueName: 'DIR' },
    token: { type: 'string', description: 'the token clients must send (default: $THINKSCOPE_TOKEN, else a new random one, printed)', valueName: 'TOKEN' },
    ...modelLoadOptions,
  },
  async run(values, _positionals, { signal }) {
    // The client's loadModel may name its own threads and precision; these apply where it does not.
    const { threads, precision, memoryBudget } = modelLoadSettings(values);
    const service = new EngineService(analysisBackend, { threads: threads > 0 ? threads : undefined, precision, memoryBudget });
    if (values.stdio) {
      // stdout carries the protocol: everything else the engine prints goes to stderr.
      console.log = console.error;
      console.info = console.error;
      await new Promise<void>((resolve) => serveConnection(process.stdin, process.stdout, service, { token: null, root: null }, resolve));
      await service.dispose();
      return;
    }
    if (values.port === undefined) throw new UsageError('give --stdio or --port N (see --help)');
    const port = integerOption(values, 'port');
    const host = String(values.host);
    const token = typeof values.token === 'string' ? values.token : (process.env.THINKSCOPE_TOKEN ?? randomBytes(24).toString('base64url'));
    if (token.length < MIN_TOKEN_LENGTH) throw new UsageError(`the token must have at least ${MIN_TOKEN_LENGTH} characters`);
    let root: ServedRoot;
    try {
      root = new ServedRoot(typeof values.root === 'string' ? values.root : homedir());
    } catch (error) {
      throw new UsageError(`--root: ${(error as Error).message}`);
    }
    if (!isLoopback(host)) console.error(`warning: listening on ${host}: the token is all that keeps others out, and it travels unencrypted; prefer an SSH tunnel (see the README)`);
    const clients = new Set<Socket>();
    const server = createServer((socket) => {
      socket.on('error', () => undefined); // a reset: 'close' follows and ends this client alone
      if (clients.size >= MAX_CLIENTS) return refuse(socket, `the engine already serves ${MAX_CLIENTS} clients; try again when one disconnects`);
      clients.add(socket);
      const connection = serveConnection(socket, socket, service, { token, root }, () => {
        clients.delete(socket);
        socket.destroy();
        if (connection.cancelled > 0) console.error(`a client went away: ${connection.cancelled} of its requests cancelled`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        console.error(`thinkscope engine listening on ${host}:${(server.address() as AddressInfo).port}, serving ${root.dir}`);
        if (typeof values.token !== 'string' && process.env.THINKSCOPE_TOKEN === undefined) console.error(`token: ${token}`);
        resolve();
      });
    });
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    server.close();
    for (const socket of clients) socket.destroy();
    await service.dispose();
  },
};
