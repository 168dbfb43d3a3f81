// A real `thinkscope serve` process for the fault-injection tests, and a raw line client: the tests
// speak the wire protocol byte by byte, as a hostile or broken client would.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { PROTOCOL_VERSION } from '../../extension/common/protocol';

const REPO = join(__dirname, '..', '..');
export const TOKEN = 'fault-suite-token-0123456789';

export interface ServedEngine {
  process: ChildProcess;
  port: number;
  /** Everything the engine wrote to stderr so far. */
  log(): string;
  /** Resolves when the engine process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `thinkscope serve --port 0` (from source) on loopback, serving `root`. */
export async function startEngine(root: string, cache: string, extra: string[] = []): Promise<ServedEngine> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'extension', 'cli', 'main.ts'), 'serve', '--port', '0', '--root', root, '--token', TOKEN, ...extra], {
    cwd: REPO,
    env: { ...process.env, THINKSCOPE_CACHE: cache },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk) => (log += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the engine did not start: ${log}`)), 60_000);
    const poll = setInterval(() => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`the engine exited: ${log}`));
    });
  });
  return { process: child, port, log: () => log, exited };
}

/** One TCP client that sends raw lines and collects the JSON lines it gets back. */
export class LineClient {
  readonly received: Record<string, unknown>[] = [];
  closed: Promise<void>;
  private buffer = '';
  private nextId = 1;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffer += text;
      let newline;
      while ((newline = this.buffer.indexOf('\n')) !== -1) {
        this.received.push(JSON.parse(this.buffer.slice(0, newline)) as Record<string, unknown>);
        this.buffer = this.buffer.slice(newline + 1);
      }
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static connect(port: number): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new LineClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and sends `initialize` with the engine's token. */
  static async ready(port: number): Promise<LineClient> {
    const client = await LineClient.connect(port);
    const hello = await client.request('initialize', { client: 'fault-suite', protocol: PROTOCOL_VERSION, token: TOKEN });
    if (!hello.result) throw new Error(`initialize failed: ${JSON.stringify(hello)}`);
    return client;
  }

  send(line: string | Buffer): void {
    this.socket.write(line);
  }

  /** Sends a request and waits for its answer (or for the connection to close: undefined). */
  async request(method: string, params?: unknown, timeoutMs = 120_000): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
    const id = this.nextId++;
    this.send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }) + '\n');
    return this.waitFor((m) => m.id === id, timeoutMs) as Promise<{ result?: unknown; error?: { code: number; message: string } }>;
  }

  /** The first received message that matches, within `timeoutMs`. */
  async waitFor(match: (message: Record<string, unknown>) => boolean, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received).slice(0, 500)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** True when the engine closed this connection within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    return Promise.race([this.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
  }

  end(): void {
    this.socket.destroy();
  }
}
