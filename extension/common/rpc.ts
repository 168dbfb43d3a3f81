// One end of a JSON-RPC connection over a line transport: typed requests with cancellation, and
// notifications. The transport (stdio, a socket) only moves lines; this is the same on both ends.
// Whatever arrives is checked before it is used: a line that is not a JSON-RPC message, an unknown
// method or params of the wrong shape is answered with a JSON-RPC error, never thrown.

import {
  CANCEL_METHOD,
  ErrorCodes,
  RemoteError,
  type EngineNotifications,
  type EngineRequests,
  type NotificationMethod,
  type RequestMethod,
} from './protocol';

export interface RequestContext {
  id: number;
  signal: AbortSignal;
  notify<M extends NotificationMethod>(method: M, params: EngineNotifications[M]): void;
}

export type RequestHandler = (method: RequestMethod, params: unknown, context: RequestContext) => Promise<unknown>;
export type NotificationHandler = <M extends NotificationMethod>(method: M, params: EngineNotifications[M]) => void;

export interface RpcOptions {
  /** Checks a request before its handler runs: the error to answer with (unknown method, wrong params), or null. */
  check?(method: string, params: unknown): RemoteError | null;
  /** A line that is not a JSON-RPC message arrived (it has been answered with an error). */
  onInvalidLine?(reason: string): void;
}

type Incoming =
  | { kind: 'request'; id: number; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: number | null; result?: unknown; error?: { code: number; message: string } };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One line of the wire as a message, or why it is not one. */
function parseLine(line: string): Incoming | RemoteError {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return new RemoteError('expected one JSON-RPC 2.0 message per line; this line is not JSON', ErrorCodes.parseError);
  }
  if (!isObject(value) || value.jsonrpc !== '2.0') return new RemoteError('expected a JSON-RPC 2.0 message ("jsonrpc": "2.0")', ErrorCodes.invalidRequest);
  const { id, method, params } = value;
  if (params !== undefined && typeof params !== 'object') return new RemoteError('"params" must be an object', ErrorCodes.invalidRequest);
  if ('method' in value) {
    if (typeof method !== 'string') return new RemoteError('"method" must be a string', ErrorCodes.invalidRequest);
    if (id === undefined) return { kind: 'notification', method, params };
    if (!Number.isSafeInteger(id)) return new RemoteError('a request "id" must be an integer', ErrorCodes.invalidRequest);
    return { kind: 'request', id: id as number, method, params };
  }
  if (id !== null && !Number.isSafeInteger(id)) return new RemoteError('a response "id" must be an integer', ErrorCodes.invalidRequest);
  const error = value.error;
  if (error !== undefined && !(isObject(error) && typeof error.code === 'number' && typeof error.message === 'string')) {
    return new RemoteError('a response "error" needs a numeric "code" and a "message"', ErrorCodes.invalidRequest);
  }
  if (error === undefined && !('result' in value)) return new RemoteError('expected "method", "result" or "error"', ErrorCodes.invalidRequest);
  return { kind: 'response', id: id as number | null, result: value.result, error: error as { code: number; message: string } | undefined };
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class RpcConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly running = new Map<number, AbortController>();
  private requestHandler: RequestHandler | null = null;
  private readonly notificationHandlers = new Set<NotificationHandler>();
  private closedReason: string | null = null;

  constructor(
    private readonly write: (line: string) => void,
    private readonly options: RpcOptions = {},
  ) {}

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  onNotification(handler: NotificationHandler): () => void {
    this.notificationHandlers.add(handler);
    return () => this.notificationHandlers.delete(handler);
  }

  request<M extends RequestMethod>(method: M, params: EngineRequests[M][0], signal?: AbortSignal): Promise<EngineRequests[M][1]> & { id: number } {
    const id = this.nextId++;
    const promise = new Promise<EngineRequests[M][1]>((resolve, reject) => {
      if (this.closedReason !== null) return reject(new RemoteError(this.closedReason, ErrorCodes.internal));
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      signal?.addEventListener('abort', () => this.send({ jsonrpc: '2.0', method: CANCEL_METHOD, params: { id } }), { once: true });
      this.send({ jsonrpc: '2.0', id, method, params });
    });
    return Object.assign(promise, { id });
  }

  notify<M extends NotificationMethod>(method: M, params: EngineNotifications[M]): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** Feeds one received line. */
  receive(line: string): void {
    if (!line.trim()) return;
    const message = parseLine(line);
    if (message instanceof RemoteError) {
      this.send({ jsonrpc: '2.0', id: null, error: { code: message.code, message: message.message } });
      this.options.onInvalidLine?.(message.message);
    } else if (message.kind === 'request') void this.handleRequest(message.id, message.method, message.params);
    else if (message.kind === 'notification') this.handleNotification(message.method, message.params);
    else {
      // An error without an id answers a line this end could not read: nothing is waiting for it.
      const pending = message.id === null ? undefined : this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id!);
      if (message.error) pending.reject(new RemoteError(message.error.message, message.error.code));
      else pending.resolve(message.result);
    }
  }

  /** Requests of the other end that were still running when the connection closed (they were cancelled). */
  cancelled = 0;

  /** Fails every pending request (the other end is gone), cancels the running ones and refuses new ones. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.cancelled = this.running.size;
    for (const pending of this.pending.values()) pending.reject(new RemoteError(reason, ErrorCodes.internal));
    this.pending.clear();
    for (const controller of this.running.values()) controller.abort();
  }

  private send(message: object): void {
    if (this.closedReason === null) this.write(JSON.stringify(message));
  }

  private handleNotification(method: string, params: unknown): void {
    if (!isObject(params)) return; // every notification of the protocol carries params
    if (method === CANCEL_METHOD) {
      if (typeof params.id === 'number') this.running.get(params.id)?.abort();
      return;
    }
    for (const handler of this.notificationHandlers) handler(method as NotificationMethod, params as never);
  }

  private async handleRequest(id: number, method: string, params: unknown): Promise<void> {
    const refusal = !this.requestHandler
      ? new RemoteError(`no handler for ${method}`, ErrorCodes.methodNotFound)
      : this.running.has(id)
        ? new RemoteError(`request id ${id} is already in use`, ErrorCodes.invalidRequest)
        : (this.options.check?.(method, params) ?? null);
    if (refusal) {
      this.send({ jsonrpc: '2.0', id, error: { code: refusal.code, message: refusal.message } });
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      const result = await this.requestHandler!(method as RequestMethod, params, { id, signal: controller.signal, notify: (m, p) => this.notify(m, p) });
      this.send({ jsonrpc: '2.0', id, result: result ?? null });
    } catch (error) {
      const code = error instanceof RemoteError ? error.code : controller.signal.aborted ? ErrorCodes.cancelled : ErrorCodes.userError;
      this.send({ jsonrpc: '2.0', id, error: { code, message: error instanceof Error ? error.message : String(error) } });
    } finally {
      this.running.delete(id);
    }
  }
}
