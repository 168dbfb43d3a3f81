// A CodeLens at the top of every trace: "Analyze · Steer · Export" on a document with thinking in it,
// "Re-analyze with the current model" on a saved trace's view, "Show annotated trace" on the raw file.

import * as vscode from 'vscode';
import { Commands } from './command-ids';
import type { TraceResults } from './contracts';
import { isTraceFile, TRACE_SCHEME } from './trace-viewer';

/** A `<think>` block, or a chat export's reasoning field. */
const THINKING = /<think>|"reasoning(?:_content)?"\s*:/;

function looksLikeTrace(text: string): boolean {
  return THINKING.test(text);
}

class TraceCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly results: TraceResults) {}

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const lens = (title: string, command: string, argument: unknown, tooltip: string) => new vscode.CodeLens(top, { title, command, arguments: [argument], tooltip });
    const uri = document.uri;
    if (isTraceFile(uri)) return [lens('$(eye) Show annotated trace', Commands.openTraceSource, uri, 'Show the text of this trace with its annotations (no model needed)')];
    const analysed = this.results.get(uri) !== undefined;
    if (uri.scheme === TRACE_SCHEME) {
      return [
        lens('$(refresh) Re-analyze with the current model', Commands.reanalyzeTrace, uri, 'Score this trace again with the model loaded now'),
        lens('Export', Commands.exportTrace, { uri }, 'Save as a trace file, HTML or Markdown'),
      ];
    }
    if (!looksLikeTrace(document.getText())) return [];
    return [
      lens(analysed ? '$(pulse) Analyze again' : '$(pulse) Analyze', Commands.analyzeTrace, { uri }, 'Score and classify every step of this trace'),
      lens('Steer', Commands.steerReply, undefined, 'Generate a steered reply beside the baseline'),
      ...(analysed ? [lens('Export', Commands.exportTrace, { uri }, 'Save as a trace file, HTML or Markdown')] : []),
    ];
  }

  refresh(): void {
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function registerCodeLens(results: TraceResults): vscode.Disposable {
  const provider = new TraceCodeLens(results);
  const selector: vscode.DocumentSelector = [
    { language: 'markdown' },
    { language: 'plaintext' },
    { language: 'json' },
    { language: 'jsonl' },
    { language: 'jsonc' },
    { scheme: TRACE_SCHEME },
  ];
  // Only whether a document has results changes the lenses: not every snapshot.
  const analysed = new Set<string>();
  const listener = results.onDidChange(({ uri, file }) => {
    const key = uri.toString();
    if (analysed.has(key) === (file !== undefined)) return;
    if (file) analysed.add(key);
    else analysed.delete(key);
    provider.refresh();
  });
  return vscode.Disposable.from(vscode.languages.registerCodeLensProvider(selector, provider), listener, provider);
}
