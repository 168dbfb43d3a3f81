// One end of a JSON-RPC connection over a line transport: typed requests with cancellation, and
// notifications. The transport (stdio, a socket) only moves lines; this is the same on both ends.

import {
  CANCEL_METHOD,
  ErrorCodes,
  parseMessage,
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

  constructor(private readonly write: (line: string) => void) {}

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
    const message = parseMessage(line);
    if (!message) return;
    if ('method' in message && 'id' in message) void this.handleRequest(message.id, message.method as RequestMethod, message.params);
    else if ('method' in message) this.handleNotification(message.method, message.params);
    else {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if ('error' in message) pending.reject(new RemoteError(message.error.message, message.error.code));
      else pending.resolve(message.result);
    }
  }

  /** Fails every pending request (the other end is gone) and refuses new ones. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const pending of this.pending.values()) pending.reject(new RemoteError(reason, ErrorCodes.internal));
    this.pending.clear();
    for (const controller of this.running.values()) controller.abort();
  }

  private send(message: object): void {
    if (this.closedReason === null) this.write(JSON.stringify(message));
  }

  private handleNotification(method: string, params: unknown): void {
    if (method === CANCEL_METHOD) {
      this.running.get((params as { id: number }).id)?.abort();
      return;
    }
    for (const handler of this.notificationHandlers) handler(method as NotificationMethod, params as never);
  }

  private async handleRequest(id: number, method: RequestMethod, params: unknown): Promise<void> {
    if (!this.requestHandler) {
      this.send({ jsonrpc: '2.0', id, error: { code: ErrorCodes.methodNotFound, message: `no handler for ${method}` } });
      return;
    }
    const controller = new AbortController();
    this.running.set(id, controller);
    try {
      const result = await this.requestHandler(method, params, { id, signal: controller.signal, notify: (m, p) => this.notify(m, p) });
      this.send({ jsonrpc: '2.0', id, result: result ?? null });
    } catch (error) {
      const code = error instanceof RemoteError ? error.code : controller.signal.aborted ? ErrorCodes.cancelled : ErrorCodes.userError;
      this.send({ jsonrpc: '2.0', id, error: { code, message: error instanceof Error ? error.message : String(error) } });
    } finally {
      this.running.delete(id);
    }
  }
}
