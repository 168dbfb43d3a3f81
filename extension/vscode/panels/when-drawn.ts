// What tests and diagnostics use to know what a webview shows: the first drawing it reports (from now,
// or the latest one) that satisfies a predicate.

import type * as vscode from 'vscode';

export function whenDrawn<T>(drawings: vscode.Event<T>, latest: T | null, predicate: (drawn: T) => boolean, timeoutMs: number, failure: string): Promise<T> {
  if (latest && predicate(latest)) return Promise.resolve(latest);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listener.dispose();
      reject(new Error(`${failure} within ${timeoutMs} ms; the latest: ${JSON.stringify(latest)}`));
    }, timeoutMs);
    const listener = drawings((drawn) => {
      latest = drawn;
      if (!predicate(drawn)) return;
      clearTimeout(timer);
      listener.dispose();
      resolve(drawn);
    });
  });
}
