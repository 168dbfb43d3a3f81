// The engine as the extension sees it: a child process (`dist/cli.js serve --stdio`) or a TCP
// connection to `thinkscope serve --port N`, speaking the protocol of extension/common. The engine
// computes on its own thread, so the extension host never waits on onnxruntime. When the process
// dies, every pending request fails with a plain message, and the next request starts a new engine
// and reloads the last model first.

import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import * as vscode from 'vscode';
import { PROTOCOL_VERSION, RemoteError, type EngineRequests, type ModelInfo, type RequestMethod } from '../common/protocol';
import { RpcConnection } from '../common/rpc';
import { Commands } from './command-ids';
import type { EngineClient, EngineState, NotificationListener } from './contracts';
import { engineSettings } from './settings';

/** A request failed because the engine process went away; the client has already told the user. */
export class EngineStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineStoppedError';
  }
}

interface Engine {
  rpc: RpcConnection;
  /** The local process's id; undefined for a remote engine. */
  pid: number | undefined;
  stop(): void;
}

type LoadParams = EngineRequests['loadModel'][0];

/** Where the token of a remote engine is kept: VS Code's secret storage, never settings.json. */
const TOKEN_SECRET = 'thinkscope.engine.token';

function stoppedMessage(reason: string): string {
  return `The ThinkScope engine stopped (${reason}); your results are kept. It will restart on the next request.`;
}

export class ProcessEngineClient implements EngineClient, vscode.Disposable {
  private current: EngineState = { status: 'stopped', model: null };
  private readonly stateEmitter = new vscode.EventEmitter<EngineState>();
  readonly onDidChangeState = this.stateEmitter.event;

  private engine: Engine | null = null;
  private starting: Promise<Engine> | null = null;
  private reloading: Promise<void> | null = null;
  /** The last model loaded successfully: what a restarted engine loads before anything else. */
  private lastModel: LoadParams | null = null;
  private modelToReload: LoadParams | null = null;
  private inFlight = 0;
  private disposed = false;

  constructor(
    private readonly extensionPath: string,
    private readonly log: vscode.LogOutputChannel,
    private readonly secrets: vscode.SecretStorage,
  ) {}

  get state(): EngineState {
    return this.current;
  }

  /** The local engine process's id, while one runs. */
  get pid(): number | undefined {
    return this.engine?.pid;
  }

  async request<M extends RequestMethod>(
    method: M,
    params: EngineRequests[M][0],
    options: { signal?: AbortSignal; onNotification?: NotificationListener } = {},
  ): Promise<EngineRequests[M][1]> {
    if (this.disposed) throw new Error('the ThinkScope extension is shutting down');
    options.signal?.throwIfAborted();
    this.inFlight++;
    this.updateStatus();
    try {
      const engine = await this.ensureEngine();
      if (method !== 'loadModel') await this.reloadModel(engine, options.onNotification);
      const result = await this.send(engine, method, params, options);
      if (method === 'loadModel') this.modelLoaded(params as LoadParams, result as ModelInfo);
      return result;
    } finally {
      this.inFlight--;
      this.updateStatus();
    }
  }

  /** Ends the engine (a new one starts on the next request), e.g. when its location changed. */
  restart(): void {
    const engine = this.engine;
    if (!engine) return;
    this.engine = null;
    this.modelToReload = this.lastModel;
    engine.rpc.close('the engine was restarted');
    engine.stop();
    this.setState({ status: 'stopped', model: this.current.model });
  }

  dispose(): void {
    this.disposed = true;
    const engine = this.engine;
    this.engine = null;
    engine?.rpc.close('the ThinkScope extension is shutting down');
    engine?.stop();
    this.stateEmitter.dispose();
  }

  private send<M extends RequestMethod>(
    engine: Engine,
    method: M,
    params: EngineRequests[M][0],
    options: { signal?: AbortSignal; onNotification?: NotificationListener },
  ): Promise<EngineRequests[M][1]> {
    const pending = engine.rpc.request(method, params, options.signal);
    const listener = options.onNotification;
    const unsubscribe = listener
      ? engine.rpc.onNotification((name, notification) => {
          if (notification.requestId === pending.id) listener(name, notification);
        })
      : undefined;
    return pending.finally(() => unsubscribe?.()).catch((error: unknown) => {
      throw engine === this.engine || !(error instanceof RemoteError) ? error : new EngineStoppedError(error.message);
    });
  }

  private modelLoaded(params: LoadParams, info: ModelInfo): void {
    this.lastModel = params;
    this.modelToReload = null;
    this.setState({ status: this.current.status, model: info });
  }

  /** After a restart, loads the model the previous engine had, once, before the request that follows. */
  private async reloadModel(engine: Engine, onNotification?: NotificationListener): Promise<void> {
    const params = this.modelToReload;
    if (!params) return;
    this.reloading ??= (async () => {
      this.log.info(`reloading ${params.path} in the new engine`);
      try {
        const info = await this.send(engine, 'loadModel', params, { onNotification });
        this.modelLoaded(params, info);
      } catch (error) {
        if (error instanceof EngineStoppedError) throw error; // died again: the next engine tries again
        this.modelToReload = null;
        this.setState({ status: this.current.status, model: null });
        throw new Error(`The engine restarted but could not load the model again (${params.path}): ${(error as Error).message}`);
      } finally {
        this.reloading = null;
      }
    })();
    await this.reloading;
  }

  private ensureEngine(): Promise<Engine> {
    if (this.engine) return Promise.resolve(this.engine);
    this.starting ??= this.startEngine().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private async startEngine(): Promise<Engine> {
    const { location } = engineSettings();
    this.setState({ status: 'starting', model: this.current.model });
    let engine: Engine | undefined;
    try {
      engine = location === 'local' ? this.spawnLocal() : await this.connectRemote(location);
      const token = location === 'local' ? undefined : await this.secrets.get(TOKEN_SECRET);
      if (location !== 'local' && !token) throw new Error(`the engine needs its token: run "ThinkScope: Set Engine Token" with the token \`thinkscope serve\` printed`);
      const hello = await engine.rpc.request('initialize', { client: `thinkscope-vscode ${vscode.version}`, protocol: PROTOCOL_VERSION, token });
      this.log.info(`engine ${hello.version} ready (${location === 'local' ? `process ${hello.pid}` : location}, protocol ${hello.protocol})`);
      this.engine = engine;
      return engine;
    } catch (error) {
      engine?.stop();
      throw new Error(`Could not start the ThinkScope engine (${location}): ${(error as Error).message}`);
    } finally {
      this.updateStatus();
    }
  }

  private spawnLocal(): Engine {
    const cli = join(this.extensionPath, 'dist', 'cli.js');
    // In desktop VS Code process.execPath is Electron; this variable makes it behave as plain Node.
    const child = spawn(process.execPath, [cli, 'serve', '--stdio'], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const rpc = new RpcConnection((line) => child.stdin?.write(line + '\n'));
    const engine: Engine = { rpc, pid: child.pid, stop: () => child.kill() };
    lines(child.stdout!, (line) => rpc.receive(line));
    lines(child.stderr!, (line) => this.log.info(`[engine] ${line}`));
    child.stdin?.on('error', () => undefined); // a write to a dead process: its exit is reported below
    child.on('error', (error) => this.engineStopped(engine, `it could not run: ${error.message}`));
    child.on('exit', (code, signal) => this.engineStopped(engine, exitReason(child, code, signal)));
    return engine;
  }

  private connectRemote(location: string): Promise<Engine> {
    const separator = location.lastIndexOf(':');
    const host = location.slice(0, separator);
    const port = Number(location.slice(separator + 1));
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ host, port });
      const rpc = new RpcConnection((line) => socket.write(line + '\n'));
      const engine: Engine = { rpc, pid: undefined, stop: () => socket.destroy() };
      lines(socket, (line) => rpc.receive(line));
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        resolve(engine);
      });
      // Before the connection: nobody listens there. After: 'close' follows and reports the stop.
      socket.on('error', (error) => {
        if (connected) this.log.warn(`connection to ${location}: ${error.message}`);
        else reject(new Error(`no engine answers at ${location}: ${error.message}`));
      });
      socket.on('close', () => this.engineStopped(engine, `the connection to ${location} closed`));
    });
  }

  private engineStopped(engine: Engine, reason: string): void {
    const message = stoppedMessage(reason);
    engine.rpc.close(message);
    if (engine !== this.engine) return; // already replaced, or it never finished starting
    this.engine = null;
    this.modelToReload = this.lastModel;
    this.log.warn(message);
    if (!this.disposed) {
      void vscode.window.showWarningMessage(message);
      this.setState({ status: 'stopped', model: this.current.model });
    }
  }

  private updateStatus(): void {
    if (this.disposed) return;
    const status = !this.engine ? (this.starting ? 'starting' : 'stopped') : this.inFlight > 0 ? 'busy' : 'idle';
    if (status !== this.current.status) this.setState({ status, model: this.current.model });
  }

  private setState(state: EngineState): void {
    this.current = state;
    if (!this.disposed) this.stateEmitter.fire(state);
  }
}

/**
 * "ThinkScope: Set Engine Token": stores the token of a remote engine as a secret and reconnects.
 * The token can be passed as the argument (automation); otherwise the user is asked for it.
 */
export function registerEngineToken(context: vscode.ExtensionContext, engine: ProcessEngineClient): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(Commands.setEngineToken, async (given?: unknown) => {
      const token =
        typeof given === 'string'
          ? given
          : await vscode.window.showInputBox({
              title: 'ThinkScope engine token',
              prompt: 'The token `thinkscope serve --port N` printed when it started (empty: forget the stored token)',
              password: true,
              ignoreFocusOut: true,
            });
      if (token === undefined) return;
      if (token.trim() === '') await context.secrets.delete(TOKEN_SECRET);
      else await context.secrets.store(TOKEN_SECRET, token.trim());
      engine.restart();
    }),
  );
}

/**
 * Calls `onLine` for each line of a stream. A read error (a reset connection) ends the stream; the
 * process's exit or the socket's close reports it, so the error itself needs no other handling.
 */
function lines(input: Readable, onLine: (line: string) => void): void {
  createInterface({ input, crlfDelay: Infinity }).on('line', onLine).on('error', () => undefined);
}

function exitReason(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): string {
  if (signal === 'SIGKILL') return 'it was killed, possibly for lack of memory';
  if (signal) return `it was ended by ${signal}`;
  if (code === 134) return 'it crashed (abort), possibly for lack of memory';
  return `process ${child.pid} exited with code ${code}`;
}
