// The folder pruning panel: a folder's batch (its chart and table, as the engine computed them) in a d3
// webview, one panel per folder, brought back after a reload from what it showed.
import * as vscode from 'vscode';
import {
  PRUNE_REPORT_VIEW_TYPE,
  PruneReportHostMessageType,
  PruneReportWebviewMessageType,
  isPruneReportState,
  type PruneReportHostMessages,
  type PruneReportRender,
  type PruneReportState,
  type PruneReportWebviewMessages,
  type WrittenReportFile,
} from '../../common/prune-report-protocol';
import { dispatchMessage, message, type MessageHandlers } from '../../common/webview-protocol';
import { panelHtml, panelOptions } from './html';
import { whenDrawn } from './when-drawn';

export class PruneReportPanel {
  private lastDrawn: PruneReportRender | null = null;
  private readonly drawn = new vscode.EventEmitter<PruneReportRender>();
  private readonly disposed = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [];
  readonly onDidDispose = this.disposed.event;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private report: PruneReportState,
  ) {
    panel.webview.options = panelOptions(extensionUri);
    panel.title = titleOf(report);
    this.disposables.push(
      this.drawn,
      this.disposed,
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((data) => {
        try {
          dispatchMessage(PruneReportWebviewMessageType, this.handlers, data);
        } catch (error) {
          void vscode.window.showErrorMessage(`ThinkScope: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );
    panel.webview.html = panelHtml(panel.webview, extensionUri, { script: 'prune-report.js', title: titleOf(report) });
  }

  get folder(): string {
    return this.report.folder;
  }

  show(report: PruneReportState): void {
    this.report = report;
    this.panel.title = titleOf(report);
    this.post('report', { report });
    this.panel.reveal(undefined, true);
  }

  /** Resolves with the first drawing (from now, or the latest) that satisfies `predicate`; what tests read. */
  whenRendered(predicate: (drawn: PruneReportRender) => boolean, timeoutMs = 10_000): Promise<PruneReportRender> {
    return whenDrawn(this.drawn.event, this.lastDrawn, predicate, timeoutMs, 'the pruning panel did not draw the expected report');
  }

  dispose(): void {
    this.disposed.fire();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    this.panel.dispose();
  }

  private post<K extends keyof PruneReportHostMessages>(type: K, body: PruneReportHostMessages[K]): void {
    void this.panel.webview.postMessage(message(PruneReportHostMessageType, type, body));
  }

  private readonly handlers: MessageHandlers<PruneReportWebviewMessages> = {
    ready: () => this.post('report', { report: this.report }),
    rendered: ({ drawn }) => {
      this.lastDrawn = drawn;
      this.drawn.fire(drawn);
    },
    openWritten: ({ file }) => void openWritten(this.report, file),
  };
}

function titleOf(report: PruneReportState): string {
  return `Pruning ${report.folder.split(/[\\/]/).filter(Boolean).pop() ?? report.folder}`;
}

/** The shareable files: the table in the Markdown preview, the chart and the records in an editor. */
async function openWritten(report: PruneReportState, file: WrittenReportFile): Promise<void> {
  const uri = vscode.Uri.file(report.written[file]);
  try {
    await vscode.workspace.fs.stat(uri);
  } catch {
    void vscode.window.showErrorMessage(`ThinkScope: ${report.written[file]} is no longer there: prune the folder again to write it.`);
    return;
  }
  if (file === 'table') await vscode.commands.executeCommand('markdown.showPreview', uri);
  else await vscode.commands.executeCommand('vscode.open', uri, { viewColumn: vscode.ViewColumn.Active });
}

/** Opens (or reuses) a folder's panel; restores the panels a reload closed. */
export function registerPruneReportPanels(context: vscode.ExtensionContext): { show(report: PruneReportState): PruneReportPanel; get(folder: string): PruneReportPanel | undefined } {
  const open = new Map<string, PruneReportPanel>();
  const track = (panel: PruneReportPanel) => {
    open.set(panel.folder, panel);
    panel.onDidDispose(() => {
      if (open.get(panel.folder) === panel) open.delete(panel.folder);
    });
    return panel;
  };
  context.subscriptions.push(
    { dispose: () => [...open.values()].forEach((panel) => panel.dispose()) },
    vscode.window.registerWebviewPanelSerializer(PRUNE_REPORT_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, saved: unknown) {
        const report = (saved as { report?: unknown } | undefined)?.report;
        if (!isPruneReportState(report) || open.has(report.folder)) {
          panel.dispose();
          return;
        }
        track(new PruneReportPanel(panel, context.extensionUri, report));
      },
    }),
  );
  return {
    get: (folder) => open.get(folder),
    show(report) {
      const existing = open.get(report.folder);
      if (existing) {
        existing.show(report);
        return existing;
      }
      // A report of its own, like the Markdown preview it replaces: the active group, at full width.
      const panel = vscode.window.createWebviewPanel(PRUNE_REPORT_VIEW_TYPE, titleOf(report), { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, panelOptions(context.extensionUri));
      return track(new PruneReportPanel(panel, context.extensionUri, report));
    },
  };
}
