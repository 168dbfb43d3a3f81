// Moves protocol lines over a pair of streams (the engine process's stdio, or a TCP socket) and
// guards the engine from the other end: lines have a size bound, a TCP client must first
// `initialize` with the engine's token, and whatever a client does (garbage, a reset, a vanished
// process) ends at most that client's own requests.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { ErrorCodes, RemoteError } from '../../common/protocol';
import { RpcConnection } from '../../common/rpc';
import type { EngineService } from './engine-service';
import { requestCheck } from './request-check';
import type { ServedRoot } from './served-root';

/** The largest message: a trace at the parser's limit fits, with room for JSON escapes. */
export const MAX_MESSAGE_BYTES = 160 * 1024 * 1024;
/** Before a TCP client has sent the token, nothing it says needs more than this. */
const MAX_GREETING_BYTES = 64 * 1024;
/** A TCP client that has not sent the token by then is let go: idle connections must not hold the engine's client slots. */
export const GREETING_MS = 10_000;

export interface ConnectionPolicy {
  /** The token a client must send in `initialize`; null over stdio, where the client started the engine. */
  token: string | null;
  /** The folder every path must lie in; null: any path. */
  root: ServedRoot | null;
  /** Largest line accepted (tests use a small bound). */
  maxMessageBytes?: number;
}

/** Serves one client on a pair of streams until it goes away; `onClose` runs once, then. */
export function serveConnection(input: Readable, output: Writable, service: EngineService, policy: ConnectionPolicy, onClose: () => void): RpcConnection {
  let authenticated = policy.token === null;
  let closed = false;
  let hungUp = false;
  // Called only over TCP (a token is set): the answer already written goes out, then the socket closes;
  // lines that arrived with the refused one (an HTTP request's body) are never read.
  const hangUp = () => {
    hungUp = true;
    setImmediate(() => output.destroy());
  };
  /** An error that answers no request (the line or the connection is refused). */
  const sayError = (message: string, code: number) => {
    if (output.writable) output.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }) + '\n');
  };
  const greeting = authenticated
    ? undefined
    : setTimeout(() => {
        if (authenticated || closed) return;
        sayError(`no initialize with the engine token within ${GREETING_MS / 1000} s: the connection is closed`, ErrorCodes.unauthorized);
        hangUp();
      }, GREETING_MS);
  const checkRequest = requestCheck(policy.root);
  const connection = new RpcConnection(
    (line) => {
      if (output.writable) output.write(line + '\n');
    },
    {
      // Before the token a client learns nothing from the checks (not the served folder, not which paths
      // exist there): anything but a well-formed initialize ends its connection.
      check: (method, params) => {
        if (authenticated) return checkRequest(method, params);
        const refusal = method === 'initialize' ? checkRequest(method, params) : new RemoteError('send initialize with the engine token first', ErrorCodes.unauthorized);
        if (refusal) hangUp();
        return refusal;
      },
      // Over TCP a line that is not JSON-RPC (an HTTP request a web page sent, say) ends the connection.
      onInvalidLine: () => {
        if (policy.token !== null) hangUp();
      },
    },
  );
  connection.onRequest(async (method, params, context) => {
    // Only a well-formed initialize gets here before the token (see check); every initialize names the
    // token, a later one on an authenticated connection too.
    if (method === 'initialize' && policy.token !== null) {
      const { token } = params as { token?: unknown };
      if (!tokensMatch(token, policy.token!)) {
        hangUp();
        throw new RemoteError(
          token === undefined
            ? 'this engine needs a token: set it with "ThinkScope: Set Engine Token" (it was printed when the engine started)'
            : 'the engine token is wrong: set the one printed when the engine started with "ThinkScope: Set Engine Token"',
          ErrorCodes.unauthorized,
        );
      }
      authenticated = true;
      clearTimeout(greeting);
    }
    return service.handle(method, params, context).catch((error: unknown) => {
      if (method === 'initialize' && policy.token !== null) hangUp();
      throw withoutQuotedInput(error);
    });
  });
  const finish = () => {
    if (closed) return;
    closed = true;
    clearTimeout(greeting);
    connection.close('the connection closed'); // cancels this client's running requests
    onClose();
  };
  readLines(
    input,
    () => (authenticated ? (policy.maxMessageBytes ?? MAX_MESSAGE_BYTES) : Math.min(MAX_GREETING_BYTES, policy.maxMessageBytes ?? MAX_MESSAGE_BYTES)),
    (line) => {
      if (!hungUp) connection.receive(line);
    },
    (limit) => {
      sayError(`a message is larger than ${limit} bytes: refused`, ErrorCodes.invalidRequest);
      if (!authenticated) hangUp();
    },
  );
  input.on('error', finish); // a reset connection: this client is gone, the engine is not
  output.on('error', finish);
  input.on('close', finish);
  input.on('end', finish);
  return connection;
}

/** JSON.parse quotes the start of the text it could not read: a client must not learn a file's bytes from an error. */
function withoutQuotedInput(error: unknown): unknown {
  if (error instanceof Error) error.message = error.message.replace(/(Unexpected token '[^']*', )?"[^]*?"(\.\.\.)? is not valid JSON/g, 'not valid JSON');
  return error;
}

/** Compares in constant time, so response timing says nothing about how much of a guess was right. */
function tokensMatch(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Calls `onLine` for each line of a stream. A line longer than the limit is never held: its bytes
 * are dropped up to the next newline and `onOversized` says so once.
 */
export function readLines(input: Readable, limit: () => number, onLine: (line: string) => void, onOversized: (limit: number) => void): void {
  let parts: Buffer[] = [];
  let length = 0;
  let skipping = false;
  const emit = (tail: Buffer) => {
    const line = Buffer.concat([...parts, tail]).toString('utf8');
    parts = [];
    length = 0;
    onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  input.on('data', (chunk: Buffer) => {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(10, start);
      const end = newline === -1 ? chunk.length : newline;
      if (!skipping && length + (end - start) > limit()) {
        skipping = true;
        parts = [];
        length = 0;
        onOversized(limit());
      }
      if (skipping) {
        if (newline !== -1) skipping = false;
      } else if (newline === -1) {
        parts.push(chunk.subarray(start));
        length += chunk.length - start;
      } else emit(chunk.subarray(start, newline));
      if (newline === -1) break;
      start = newline + 1;
    }
  });
  input.on('end', () => {
    if (!skipping && length > 0) emit(Buffer.alloc(0));
  });
}
