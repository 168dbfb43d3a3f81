// A progress notification around an engine request: the engine's `progress` notifications become
// its message and bar, and Cancel aborts the request in the engine.

import * as vscode from 'vscode';
import { ProgressWords } from '../common/progress-text';
import type { EngineNotifications, NotificationMethod } from '../common/protocol';
import { ErrorCodes, RemoteError } from '../common/protocol';
import type { NotificationListener } from './contracts';
import { EngineStoppedError } from './engine-client';

export interface EngineTask {
  signal: AbortSignal;
  /** Says something the engine's progress does not (e.g. tokens so far), with the bar at `percent`. */
  report(message: string, percent: number): void;
  /** Pass to EngineClient.request: shows progress and hands every notification to `also`. */
  listener(also?: NotificationListener): NotificationListener;
}

export function withEngineProgress<T>(title: string, run: (task: EngineTask) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    let reported = 0;
    const words = new ProgressWords();
    const listener = (also?: NotificationListener): NotificationListener => {
      return <M extends NotificationMethod>(method: M, params: EngineNotifications[M]) => {
        if (method === 'progress') {
          const { message, done, total, overall } = params as EngineNotifications['progress'];
          // The bar only moves forward: a request in phases gives its overall share, so each phase moves it.
          const percent = overall !== undefined ? Math.min(100, 100 * overall) : total > 0 ? Math.min(100, (100 * done) / total) : reported;
          progress.report({ message: words.words({ message, done, total }), increment: Math.max(0, percent - reported) });
          reported = Math.max(reported, percent);
        }
        also?.(method, params);
      };
    };
    const report = (message: string, percent: number) => {
      progress.report({ message, increment: Math.max(0, Math.min(100, percent) - reported) });
      reported = Math.max(reported, Math.min(100, percent));
    };
    return run({ signal: controller.signal, listener, report });
  });
}

export function isCancelled(error: unknown): boolean {
  return (error instanceof RemoteError && error.code === ErrorCodes.cancelled) || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Tells the user why a command failed. A stopped engine was already reported by the client, and a
 * cancelled request needs no message.
 */
export function reportFailure(log: vscode.LogOutputChannel, what: string, error: unknown): void {
  if (isCancelled(error)) {
    log.info(`${what}: cancelled`);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  log.error(`${what}: ${message}`);
  if (!(error instanceof EngineStoppedError)) void vscode.window.showErrorMessage(`${what}: ${message}`);
}
