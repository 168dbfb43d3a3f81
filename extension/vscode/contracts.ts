// What the extension's parts share: the engine client (commands, panels) and the analysed traces
// (decorations, hovers, panels). Implemented in engine-client.ts and trace-results.ts.

import type * as vscode from 'vscode';
import type { EngineNotifications, EngineRequests, ModelInfo, NotificationMethod, RequestMethod } from '../common/protocol';
import type { TraceFile } from '../common/bundle/trace-file';
import type { EngineStatusText } from '../common/webview-protocol';

export interface EngineState {
  status: EngineStatusText;
  model: ModelInfo | null;
}

export type NotificationListener = <M extends NotificationMethod>(method: M, params: EngineNotifications[M]) => void;

export interface EngineClient {
  readonly state: EngineState;
  readonly onDidChangeState: vscode.Event<EngineState>;
  /**
   * Sends a request, starting the engine process first if it is not running (and reloading the last
   * model after a crash). Notifications that belong to this request reach `onNotification`.
   */
  request<M extends RequestMethod>(
    method: M,
    params: EngineRequests[M][0],
    options?: { signal?: AbortSignal; onNotification?: NotificationListener },
  ): Promise<EngineRequests[M][1]>;
}

/** Analysed traces by document, kept across engine restarts; a change fires with a complete snapshot. */
export interface TraceResults {
  get(uri: vscode.Uri): TraceFile | undefined;
  set(uri: vscode.Uri, file: TraceFile): void;
  delete(uri: vscode.Uri): void;
  readonly onDidChange: vscode.Event<{ uri: vscode.Uri; file: TraceFile | undefined }>;
}
