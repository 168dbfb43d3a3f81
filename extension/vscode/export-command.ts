// "ThinkScope: Export Trace…": the current document's results as a trace file (.thinktrace.json), a
// self-contained HTML page (charts inlined) or Markdown, chosen by the saved file's name.

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { TraceFile } from '../common/bundle/trace-file';
import { serializeTraceFile } from '../common/bundle/trace-write';
import { exportHtml } from '../common/export/html';
import { exportMarkdown } from '../common/export/markdown';
import { Commands } from './command-ids';
import { announceWritten, writeAtomically } from './written-files';
import type { TraceResults } from './contracts';
import { reportFailure } from './progress';

export interface ExportArguments {
  uri?: string | vscode.Uri;
  /** Where to write; the extension picks the format (.thinktrace.json/.json, .html, .md). */
  target?: string | vscode.Uri;
}

function asUri(value: string | vscode.Uri): vscode.Uri {
  return typeof value === 'string' ? (/^[a-z][\w+.-]*:/i.test(value) && !/^[a-z]:\\/i.test(value) ? vscode.Uri.parse(value) : vscode.Uri.file(value)) : value;
}

function stem(uri: vscode.Uri): string {
  return basename(uri.path).replace(/(\.thinktrace)?\.[^.]+$/i, '').replace(/ \(trace\)$/, '') || 'trace';
}

export function registerExport(context: vscode.ExtensionContext, results: TraceResults, log: vscode.LogOutputChannel): void {
  async function render(file: TraceFile, target: vscode.Uri): Promise<string> {
    const name = target.path.toLowerCase();
    if (name.endsWith('.html') || name.endsWith('.htm')) {
      const chartScript = await readFile(join(context.extensionPath, 'dist', 'trace-export.js'), 'utf8');
      return exportHtml(file, { chartScript });
    }
    if (name.endsWith('.md') || name.endsWith('.markdown')) return exportMarkdown(file);
    if (name.endsWith('.json')) return serializeTraceFile(file);
    throw new Error(`cannot tell the format from "${basename(target.path)}": name it *.thinktrace.json, *.html or *.md`);
  }

  async function exportTrace(argument: unknown): Promise<vscode.Uri | undefined> {
    const options: ExportArguments = argument instanceof vscode.Uri ? { uri: argument } : ((argument as ExportArguments | undefined) ?? {});
    const uri = options.uri ? asUri(options.uri) : vscode.window.activeTextEditor?.document.uri;
    const file = uri && results.get(uri);
    if (!uri || !file) {
      void vscode.window.showErrorMessage('Export Trace: this document has no analysis yet. Run "ThinkScope: Analyze Trace" first.');
      return undefined;
    }
    const folder = uri.scheme === 'file' ? vscode.Uri.joinPath(uri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = options.target
      ? asUri(options.target)
      : await vscode.window.showSaveDialog({
          title: 'Export the analysed trace',
          saveLabel: 'Export',
          defaultUri: folder ? vscode.Uri.joinPath(folder, `${stem(uri)}.thinktrace.json`) : undefined,
          filters: { 'ThinkScope trace': ['thinktrace.json'], 'Self-contained HTML': ['html'], Markdown: ['md'] },
        });
    if (!target) return undefined;
    try {
      await writeAtomically(target, await render(file, target));
      log.info(`exported ${uri.toString()} to ${target.toString()}`);
      void announceWritten(`Exported the trace to ${basename(target.path)}.`, target);
      return target;
    } catch (error) {
      reportFailure(log, 'Export Trace', error);
      return undefined;
    }
  }

  context.subscriptions.push(vscode.commands.registerCommand(Commands.exportTrace, exportTrace));
}
