// The analysed traces of this window, by document. They live in the extension host, so an engine
// crash or restart loses none of them; every change fires with the complete file.

import * as vscode from 'vscode';
import type { TraceFile } from '../common/bundle/trace-file';
import type { TraceResults } from './contracts';

export class TraceResultStore implements TraceResults, vscode.Disposable {
  private readonly files = new Map<string, TraceFile>();
  private readonly changed = new vscode.EventEmitter<{ uri: vscode.Uri; file: TraceFile | undefined }>();
  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri): TraceFile | undefined {
    return this.files.get(uri.toString());
  }

  set(uri: vscode.Uri, file: TraceFile): void {
    this.files.set(uri.toString(), file);
    this.changed.fire({ uri, file });
  }

  delete(uri: vscode.Uri): void {
    if (this.files.delete(uri.toString())) this.changed.fire({ uri, file: undefined });
  }

  /** Every document that has results, for "Clear Annotations". */
  uris(): vscode.Uri[] {
    return [...this.files.keys()].map((key) => vscode.Uri.parse(key));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
