// Opening a saved trace (*.thinktrace.json) shows the text it was made from, read-only, with every
// annotation restored and no model needed: a `thinkscope-trace:` document whose content is the
// file's source text, and whose results are the file itself. A file that does not validate gets
// one clear message.

import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { TraceFile } from '../common/bundle/trace-file';
import { parseTraceFile } from '../common/bundle/trace-load';
import type { TraceFormat } from '../common/trace/types';
import { Commands } from './command-ids';
import type { TraceResults } from './contracts';

export const TRACE_SCHEME = 'thinkscope-trace';
const TRACE_FILE = /\.thinktrace\.json$/i;

const EXTENSION_OF: Record<TraceFormat, string> = { markdown: 'md', text: 'txt', 'chat-json': 'json', jsonl: 'jsonl' };

export function isTraceFile(uri: vscode.Uri): boolean {
  return uri.scheme !== TRACE_SCHEME && TRACE_FILE.test(uri.path);
}

/** The read-only view of a trace file: "sample (trace).md" next to "sample.thinktrace.json". */
function viewUri(fileUri: vscode.Uri, format: TraceFormat): vscode.Uri {
  const path = `${fileUri.path.replace(TRACE_FILE, '')} (trace).${EXTENSION_OF[format]}`;
  return vscode.Uri.from({ scheme: TRACE_SCHEME, path, query: fileUri.toString() });
}

/** The trace file a view shows. */
function traceFileOf(view: vscode.Uri): vscode.Uri | undefined {
  return view.scheme === TRACE_SCHEME && view.query ? vscode.Uri.parse(view.query) : undefined;
}

export class TraceViewer implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly loaded = new Map<string, TraceFile>();
  /** Trace files already shown once in this window: opening the JSON again then shows the JSON. */
  private readonly shown = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly results: TraceResults) {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(TRACE_SCHEME, this),
      vscode.window.onDidChangeActiveTextEditor((editor) => editor && this.showOnFirstOpen(editor)),
      vscode.commands.registerCommand(Commands.openTraceSource, (uri?: vscode.Uri) => this.open(uri ?? vscode.window.activeTextEditor?.document.uri)),
      vscode.commands.registerCommand(Commands.reanalyzeTrace, (uri?: vscode.Uri) => this.reanalyze(uri ?? vscode.window.activeTextEditor?.document.uri)),
    );
    const active = vscode.window.activeTextEditor;
    if (active) void this.showOnFirstOpen(active);
  }

  /** Also serves a view restored after a reload: its trace file is read again. */
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    let file = this.loaded.get(uri.toString());
    const fileUri = traceFileOf(uri);
    if (!file && fileUri) {
      file = parseTraceFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(fileUri)));
      this.loaded.set(uri.toString(), file);
    }
    if (!file) throw new Error(`${uri.toString()} names no trace file`);
    if (!this.results.get(uri)) this.results.set(uri, file);
    return file.source.text;
  }

  /** "Re-analyze with the current model": the trace's text analysed again, its view showing the new scores. */
  private async reanalyze(uri: vscode.Uri | undefined): Promise<unknown> {
    const view = uri?.scheme === TRACE_SCHEME ? uri : await this.open(uri);
    return view && vscode.commands.executeCommand(Commands.analyzeTrace, { uri: view });
  }

  /**
   * Validates a trace file and shows its source with the annotations; returns the view's Uri, or
   * undefined after telling the user what is wrong with the file.
   */
  async open(fileUri: vscode.Uri | undefined): Promise<vscode.Uri | undefined> {
    if (!fileUri || !isTraceFile(fileUri)) {
      void vscode.window.showErrorMessage('Open a ThinkScope trace file (*.thinktrace.json) to show its annotated text.');
      return undefined;
    }
    this.shown.add(fileUri.toString());
    let file: TraceFile;
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === fileUri.toString());
      file = parseTraceFile(open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(fileUri)));
    } catch (error) {
      void vscode.window.showErrorMessage(`${basename(fileUri.path)} cannot be shown as a trace: ${(error as Error).message}`);
      return undefined;
    }
    const view = viewUri(fileUri, file.source.format);
    this.loaded.set(view.toString(), file);
    this.results.set(view, file);
    const document = await vscode.workspace.openTextDocument(view);
    await vscode.window.showTextDocument(document, { preview: false });
    return view;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }

  private async showOnFirstOpen(editor: vscode.TextEditor): Promise<void> {
    const uri = editor.document.uri;
    if (!isTraceFile(uri) || this.shown.has(uri.toString())) return;
    await this.open(uri);
  }
}
