// A JSON trace shown as a reader wants it: "ThinkScope: Show Readable Trace" opens, beside the JSON, a
// read-only Markdown view with the thinking decoded, one step per line, carrying the JSON's
// annotations (decorations, hovers, Steps view, navigation); it follows the JSON's analysis as it
// changes, and "Show in JSON" selects the step at the cursor in the JSON itself.

import * as vscode from 'vscode';
import { parseTrace } from '../common/trace/parse';
import { readableTrace, sourceStep } from '../common/trace/readable';
import { Commands } from './command-ids';
import type { TraceResults } from './contracts';

export const READABLE_SCHEME = 'thinkscope-readable';

/** The readable view of a JSON document: "chat (readable).md" beside "chat.json". */
export function readableUri(json: vscode.Uri): vscode.Uri {
  return vscode.Uri.from({ scheme: READABLE_SCHEME, path: `${json.path.replace(/\.(jsonl?|jsonc)$/i, '')} (readable).md`, query: json.toString() });
}

function jsonOf(readable: vscode.Uri): vscode.Uri {
  return vscode.Uri.parse(readable.query);
}

export function isJsonTrace(format: string): boolean {
  return format === 'chat-json' || format === 'jsonl';
}

export class ReadableView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly texts = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly results: TraceResults) {
    this.disposables.push(
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(READABLE_SCHEME, this),
      results.onDidChange(({ uri }) => {
        if (uri.scheme === READABLE_SCHEME) return;
        const readable = readableUri(uri);
        if (this.texts.has(readable.toString())) this.changed.fire(readable);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        if (document.uri.scheme !== READABLE_SCHEME) return;
        this.texts.delete(document.uri.toString());
        this.results.delete(document.uri);
      }),
      vscode.commands.registerCommand(Commands.showReadableTrace, (uri?: vscode.Uri) => this.show(uri ?? vscode.window.activeTextEditor?.document.uri)),
      vscode.commands.registerCommand(Commands.revealInJson, () => this.revealInJson()),
    );
  }

  /** The decoded trace of the JSON's analysis; its annotations are set as the document's results. */
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const json = jsonOf(uri);
    const file = this.results.get(json);
    const source = await vscode.workspace.openTextDocument(json);
    if (!file || file.source.text !== source.getText()) {
      this.texts.set(uri.toString(), '');
      this.results.delete(uri);
      return `${json.path.split('/').pop()} has no current analysis: run "ThinkScope: Analyze Trace" on it, and this view shows its thinking decoded, step by step.\n`;
    }
    const readable = readableTrace(parseTrace(source.getText(), { fileName: json.path }), file).file;
    this.texts.set(uri.toString(), readable.source.text);
    // After the content is in place, so the annotations meet their text.
    setTimeout(() => this.results.set(uri, readable), 0);
    return readable.source.text;
  }

  async show(json: vscode.Uri | undefined): Promise<vscode.TextEditor | undefined> {
    if (!json || json.scheme === READABLE_SCHEME) return undefined;
    const document = await vscode.workspace.openTextDocument(readableUri(json));
    await vscode.languages.setTextDocumentLanguage(document, 'markdown');
    return vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: false });
  }

  private async revealInJson(): Promise<number | undefined> {
    const editor = vscode.window.activeTextEditor;
    const file = editor && editor.document.uri.scheme === READABLE_SCHEME ? this.results.get(editor.document.uri) : undefined;
    if (!editor || !file) return undefined;
    const step = sourceStep(file, editor.document.offsetAt(editor.selection.active));
    if (step === undefined) return undefined;
    await vscode.commands.executeCommand(Commands.revealStep, { uri: jsonOf(editor.document.uri).toString(), step });
    return step;
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}
